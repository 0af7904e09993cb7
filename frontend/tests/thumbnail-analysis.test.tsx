import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnalysePanel } from "@/components/thumbnails-screen";
import { thumbnailAnalysisSchema } from "@/lib/api/schemas";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const MEASURED = {
  width: 1280,
  height: 720,
  aspect_ratio: 1.778,
  is_16_9: true,
  file_size_bytes: 81_920,
  format: "JPEG",
  brightness: 0.42,
  contrast: 0.31,
  detail_area_share: 0.12,
  dominant_colours: [{ hex: "#1e1914", share: 0.7 }],
};
const CRITIQUE = {
  tags: ["espresso", "crema"],
  text_legibility: "No text.",
  faces: "No faces.",
  contrast: "The pale cup stands out on the dark table.",
  clutter: "Minimal.",
  summary: "Strong and simple; add a short, bold title.",
};
const WITH_CRITIQUE = {
  measured: MEASURED,
  critique: CRITIQUE,
  model: "openai/gpt-4o-mini",
  note: "Measured locally from the pixels. The tags and critique are openai/gpt-4o-mini's opinion of the image, not measurements.",
};
const OFFLINE = {
  measured: MEASURED,
  critique: null,
  model: null,
  note: "Measured locally from the pixels. No model looked at this image: this service runs on the offline model, which cannot see images, so there are no tags or critique.",
};
const REFUSED = {
  measured: MEASURED,
  critique: null,
  model: "openai/gpt-4o-mini",
  note: "Measured locally from the pixels. No tags or critique: The daily budget is used up.",
  model_error: { code: "BUDGET_EXCEEDED", message: "The daily budget is used up." },
};

function answer(body: unknown) {
  const fetchMock = vi.fn(
    async () => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } }),
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

async function upload() {
  render(<AnalysePanel />);
  const input = screen.getByLabelText(/Image \(PNG, JPEG or WebP/) as HTMLInputElement;
  fireEvent.change(input, { target: { files: [new File(["x"], "thumb.jpg", { type: "image/jpeg" })] } });
  return await screen.findByTestId("thumbnail-analysis");
}

describe("thumbnail analysis", () => {
  it("parses every shape the endpoint answers with", () => {
    expect(thumbnailAnalysisSchema.parse(WITH_CRITIQUE).critique?.tags).toEqual(["espresso", "crema"]);
    expect(thumbnailAnalysisSchema.parse(OFFLINE).critique).toBeNull();
    expect(thumbnailAnalysisSchema.parse(REFUSED).model_error?.code).toBe("BUDGET_EXCEEDED");
    expect(() => thumbnailAnalysisSchema.parse({ ...WITH_CRITIQUE, critique: { tags: "x" } })).toThrow();
  });

  it("shows the vision model's tags and critique beside the measured features", async () => {
    const fetchMock = answer(WITH_CRITIQUE);
    const analysis = await upload();

    expect(fetchMock).toHaveBeenCalledWith("/api/thumbnails/analyse/", expect.objectContaining({ method: "POST" }));
    expect(within(analysis).getByText("Measured from the pixels")).toBeTruthy();
    const critique = within(analysis).getByTestId("thumbnail-critique");
    expect(within(critique).getByText(/by openai\/gpt-4o-mini/)).toBeTruthy();
    const tags = within(critique).getByRole("list", { name: "Tags" });
    expect(within(tags).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["espresso", "crema"]);
    expect(within(critique).getByText("Text at phone size")).toBeTruthy();
    expect(within(critique).getByText(CRITIQUE.contrast)).toBeTruthy();
    expect(within(critique).getByText(CRITIQUE.summary)).toBeTruthy();
    expect(within(analysis).getByText(WITH_CRITIQUE.note)).toBeTruthy();
  });

  it("shows only the measured features, and says why, when no model gave a critique", async () => {
    for (const body of [OFFLINE, REFUSED]) {
      answer(body);
      const analysis = await upload();
      expect(within(analysis).getByText("Measured from the pixels")).toBeTruthy();
      expect(within(analysis).queryByTestId("thumbnail-critique")).toBeNull();
      await waitFor(() => expect(within(analysis).getByText(body.note)).toBeTruthy());
      cleanup();
    }
  });
});
