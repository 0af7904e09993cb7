// Import the shared channel CSV; see the chart, the sortable table and the upload calendar.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { eventually, screenshot, withPage } from "./lib.mjs";

const CSV = path.join(process.env.SHARED_DATA, "youtube", "channel_uploads", "pathfinder_6ch_video_data.csv");

test("importing a channel CSV shows its analytics", async () => {
  await withPage(async (page) => {
    await page.goto("/channels");
    await page.getByLabel(/CSV file/).setInputFiles(CSV);
    await page.getByRole("button", { name: "Import" }).click();
    const result = page.getByTestId("import-result");
    await result.waitFor({ timeout: 60_000 });
    assert.match(await result.innerText(), /Imported \d+ of \d+ rows/);
    await eventually(async () => (await page.getByTestId("channel-item").count()) >= 2, "channel list");
    await page.getByTestId("channel-item").first().getByRole("link").click();
    await page.getByTestId("channel-analytics").waitFor({ timeout: 30_000 });
    await eventually(
      async () => (await page.locator(".recharts-surface").count()) > 0,
      "the channel's chart",
      60_000,
    );
    const rows = page.locator("table tbody tr");
    await eventually(async () => (await rows.count()) > 0, "the video table");
    // Outliers are highlighted and the table sorts by SmartScore.
    assert.ok((await page.getByTestId("outlier-table").count()) === 1, "the outlier table");
    assert.ok((await page.getByTestId("streak-score").count()) === 1, "the upload calendar's score");
    await screenshot(page, "channels");
  });
});
