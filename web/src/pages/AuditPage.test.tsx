import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockApi, renderWithClient } from "../components/costs/testing";
import { AuditPage } from "./AuditPage";

afterEach(() => vi.unstubAllGlobals());

describe("AuditPage", () => {
  it("lists who did what from where, refusals and failed sign-ins too, with a CSV export", async () => {
    mockApi({
      "GET /api/v1/audit": {
        entries: [
          { id: 2, at: "2026-12-04T10:01:00Z", actor_id: null, actor_name: null, via: null, address: "10.0.0.9", method: "POST", path: "/api/v1/auth/session", status: 401, outcome: "refused", subject: "ada" },
          { id: 1, at: "2026-12-04T10:00:00Z", actor_id: "u1", actor_name: "admin", via: "session", address: "127.0.0.1", method: "POST", path: "/api/v1/deployments", status: 201, outcome: "ok", subject: null },
        ],
      },
    });
    renderWithClient(<AuditPage />);
    const rows = await screen.findAllByTestId("audit-row");
    expect(rows[0]!.textContent).toContain("(sign-in as ada)");
    expect(rows[0]!.textContent).toContain("10.0.0.9");
    expect(rows[0]!.textContent).toContain("401 refused");
    expect(rows[1]!.textContent).toContain("POST /api/v1/deployments");
    expect(screen.getByText("Export CSV").getAttribute("href")).toContain("format=csv");
  });
});
