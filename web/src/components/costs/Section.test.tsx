import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TableScroll } from "./Section";

/** happy-dom does no layout: give the scroller the sizes a browser would. */
function layout(sizes: { scrollWidth: number; clientWidth: number }) {
  vi.spyOn(HTMLElement.prototype, "scrollWidth", "get").mockReturnValue(sizes.scrollWidth);
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(sizes.clientWidth);
}

afterEach(() => vi.restoreAllMocks());

const table = (
  <table>
    <tbody>
      <tr>
        <td>wide</td>
      </tr>
    </tbody>
  </table>
);

describe("TableScroll", () => {
  it("shows a fade at the right edge while the table has more to scroll to", () => {
    layout({ scrollWidth: 600, clientWidth: 300 });
    const { container } = render(<TableScroll>{table}</TableScroll>);
    expect(screen.getByTestId("table-scroll-hint")).toBeTruthy();
    const scroller = container.querySelector("table")!.parentElement!;
    scroller.scrollLeft = 300;
    fireEvent.scroll(scroller);
    expect(screen.queryByTestId("table-scroll-hint")).toBeNull();
  });

  it("shows no hint when the table fits", () => {
    layout({ scrollWidth: 300, clientWidth: 300 });
    render(<TableScroll>{table}</TableScroll>);
    expect(screen.queryByTestId("table-scroll-hint")).toBeNull();
  });
});
