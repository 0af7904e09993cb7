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

    // Analyse an upload: a thumbnail the gallery holds, fetched by its signed URL.
    const bytes = await page.evaluate(async () => {
      const url = document.querySelector('[data-testid="thumbnail"] img').getAttribute("src");
      return [...new Uint8Array(await (await fetch(url)).arrayBuffer())];
    });
    await page.getByLabel(/^Image \(PNG/).setInputFiles({
      name: "concept.png",
      mimeType: "image/png",
      buffer: Buffer.from(bytes),
    });
    const analysis = page.getByTestId("thumbnail-analysis");
    await eventually(async () => (await analysis.count()) === 1, "the measured features", 30_000);
    const shown = await analysis.innerText();
    assert.match(shown, /1280×720 \(16:9\)/);
    assert.match(shown, /No model looked at this image/);
    await screenshot(page, "thumbnails-analysed");
  });
});
