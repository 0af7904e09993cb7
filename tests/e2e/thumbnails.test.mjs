// Thumbnails: make concepts from the Thumbnails screen (offline here: title cards labelled
// as such), see them in the gallery with their images loaded, delete one.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, screenshot, withPage } from "./lib.mjs";

test("make thumbnails, see them in the gallery, delete one", async () => {
  await withPage(async (page) => {
    await page.goto("/thumbnails");
    await page.getByLabel("What the thumbnail shows").fill("A latte with a rosetta, close-up");
    await page.getByLabel(/Video title/).fill("Latte art in 60 seconds");
    await page.getByRole("button", { name: "Make thumbnails" }).click();

    const cards = page.getByTestId("thumbnail");
    await eventually(async () => (await cards.count()) === 3, "three concepts", 60_000);
    assert.equal(await page.locator('[data-testid="thumbnail"][data-provider="offline"]').count(), 3);
    assert.match(await cards.first().innerText(), /offline/);
    // The signed image URLs load (the browser sends no token for an <img>).
    await eventually(
      async () =>
        page.evaluate(() =>
          [...document.querySelectorAll('[data-testid="thumbnail"] img')].every(
            (img) => img.complete && img.naturalWidth === 1280 && img.naturalHeight === 720,
          ),
        ),
      "the images to load",
    );
    await screenshot(page, "thumbnails-gallery");

    await cards.first().getByRole("button", { name: "Delete" }).click();
    await eventually(async () => (await cards.count()) === 2, "one deleted");
    await page.reload();
    await eventually(async () => (await cards.count()) === 2, "the gallery after a reload");
  });
});
