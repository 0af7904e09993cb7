// Thumbnails: make concepts from the Thumbnails screen (offline here: title cards labelled
// as such), see them in the gallery with their images loaded, delete one.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, screenshot, sendChat, withPage } from "./lib.mjs";

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

// From an idea in chat: "Make thumbnails" on a content idea asks the agent, whose thumbnail
// card shows the concepts (images fetched by id, so their signed URLs are fresh); the
// gallery holds them too.
test("make thumbnails from a content idea in chat, then find them in the gallery", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await sendChat(page, "Give me video ideas about latte art");
    const ideas = page.locator('[data-testid="tool-card"][data-tool-name="content_ideas"]');
    await eventually(async () => (await ideas.getAttribute("data-state")) === "done", "ideas", 60_000);
    await eventually(async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0, "the answer");
    const idea = ideas.locator(".idea-card").first();
    const title = (await idea.locator("h4").innerText()).trim();
    await idea.getByRole("button", { name: "Make thumbnails" }).click();

    const card = page.locator('[data-testid="tool-card"][data-tool-name="thumbnail"]');
    await eventually(async () => (await card.getAttribute("data-state")) === "done", "thumbnails", 60_000);
    assert.match(await page.getByTestId("user-message").last().innerText(), new RegExp(`Make thumbnails for “`));
    const concepts = card.getByTestId("thumbnail-concept");
    assert.equal(await concepts.count(), 3);
    assert.match(await card.innerText(), /offline/);
    assert.match(await card.innerText(), /not AI/);
    await eventually(
      async () =>
        card.evaluate((element) =>
          [...element.querySelectorAll("img")].length === 3 &&
          [...element.querySelectorAll("img")].every((img) => img.complete && img.naturalWidth === 1280),
        ),
      "the concept images to load",
    );
    await screenshot(page, "thumbnails-chat");

    await card.getByRole("link", { name: /thumbnail gallery/ }).click();
    await page.waitForURL(/\/thumbnails/);
    const gallery = page.getByTestId("thumbnail");
    await eventually(async () => (await gallery.count()) >= 3, "the chat's concepts in the gallery", 30_000);
    assert.match(await gallery.first().innerText(), new RegExp(title.slice(0, 12).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  });
});
