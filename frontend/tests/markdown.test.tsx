import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";

afterEach(cleanup);

describe("Markdown from the model is sanitised", () => {
  it("never turns raw HTML or scripts into elements", () => {
    const text = [
      "Hello <script>window.pwned = true</script> there.",
      "",
      '<img src="x" onerror="window.pwned = true">',
      "",
      "<b>bold html</b> and <iframe src=\"https://evil.example\"></iframe>",
    ].join("\n");
    const { container } = render(<Markdown text={text} />);
    for (const tag of ["script", "img", "b", "iframe"]) {
      expect(container.querySelector(tag)).toBeNull();
    }
    expect((window as { pwned?: boolean }).pwned).toBeUndefined();
    // The text is shown, not executed.
    expect(container.textContent).toContain("<script>");
  });

  it("opens links in a new tab with rel=noopener noreferrer and drops javascript: URLs", () => {
    const { container } = render(
      <Markdown text={"[docs](https://example.com/docs) and [bad](javascript:alert(1))"} />,
    );
    const links = Array.from(container.querySelectorAll("a"));
    expect(links).toHaveLength(2);
    expect(links[0].getAttribute("href")).toBe("https://example.com/docs");
    expect(links[0].getAttribute("rel")).toBe("noopener noreferrer");
    expect(links[0].getAttribute("target")).toBe("_blank");
    expect(links[1].getAttribute("href") ?? "").not.toContain("javascript");
  });

  it("renders Markdown images as links, fetching nothing", () => {
    const { container } = render(<Markdown text={"![a chart](https://example.com/c.png)"} />);
    expect(container.querySelector("img")).toBeNull();
    const link = container.querySelector("a");
    expect(link?.textContent).toBe("a chart");
    expect(link?.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("keeps ordinary formatting", () => {
    const { container } = render(<Markdown text={"### Ideas\n1. **bold** and `code`"} />);
    expect(container.querySelector("h3")?.textContent).toBe("Ideas");
    expect(container.querySelector("ol strong")?.textContent).toBe("bold");
    expect(container.querySelector("code")?.textContent).toBe("code");
  });
});
