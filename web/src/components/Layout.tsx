/** The frame of every page: header with navigation, the simulated-cloud banner, the live indicator. */
import { useState, type ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { useHealth } from "../api/queries";
import { useAuth, useMe } from "../auth/AuthProvider";
import { useConnection } from "../live/LiveProvider";

// `wide`: shown in the bar from tablet width on; on a phone they are in the user menu.
const NAV = [
  { href: "/", label: "Dashboard", admin: false, wide: false },
  { href: "/workflows", label: "Workflows", admin: false, wide: false },
  { href: "/runs", label: "Runs", admin: false, wide: false },
  { href: "/gallery", label: "Gallery", admin: false, wide: false },
  { href: "/costs", label: "Costs", admin: false, wide: false },
  { href: "/tokens", label: "Tokens", admin: false, wide: true },
  { href: "/users", label: "Users", admin: true, wide: true },
  { href: "/audit", label: "Audit", admin: true, wide: true },
] as const;

export function Layout({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const me = useMe();
  const nav = NAV.filter((item) => !item.admin || me?.role === "admin");
  return (
    <div className="min-h-screen">
      <SimulatedBanner />
      <header className="sticky top-0 z-40 border-b border-slate-800 bg-slate-950/90 backdrop-blur">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 sm:h-14 sm:flex-nowrap sm:gap-6 sm:py-0">
          <Link href="/" className="flex shrink-0 items-center gap-2 font-semibold text-white">
            <img src="/favicon.svg" alt="" className="h-6 w-6" />
            <span className="hidden sm:inline">ComfyHangar</span>
          </Link>
          {/* On a phone the navigation is a row of its own under the logo and the actions. */}
          <nav aria-label="Main" className="order-last -mx-1 flex w-full min-w-0 items-center gap-0.5 overflow-x-auto px-1 sm:order-none sm:w-auto sm:gap-1">
            {nav.map((item) => {
              const active = item.href === "/" ? location === "/" : location.startsWith(item.href);
              return (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={active ? "page" : undefined}
                  className={`${item.wide ? "hidden md:inline" : ""} shrink-0 whitespace-nowrap rounded-md px-2 py-1.5 text-sm sm:px-2.5 ${active ? "bg-slate-800 text-white" : "text-slate-400 hover:text-white"}`}
                >
                  {item.label}
                </Link>
              );
            })}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            <ConnectionIndicator />
            <Link
              href="/deploy"
              className="rounded-md bg-sky-500 px-3 py-1.5 text-sm font-medium text-slate-950 hover:bg-sky-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
            >
              Deploy
            </Link>
            {me && <UserMenu />}
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </div>
  );
}

/** Shown whenever the server runs on the embedded RunPod emulator: nothing is real or billed. */
export function SimulatedBanner() {
  const health = useHealth();
  if (!health.data?.simulated) return null;
  return (
    <div role="note" data-testid="simulated-banner" className="bg-amber-400 px-4 py-1.5 text-center text-sm font-medium text-amber-950">
      Simulated cloud: no RunPod API key is set, so pods run on the built-in emulator and nothing is billed.
    </div>
  );
}

const LABEL = { open: "Live", connecting: "Connecting", reconnecting: "Reconnecting" } as const;
const DOT = { open: "bg-emerald-400", connecting: "bg-slate-400 animate-pulse", reconnecting: "bg-amber-400 animate-pulse" } as const;

/** Whether live updates are flowing; while reconnecting, when the next try is. */
export function ConnectionIndicator() {
  const { state, retryInMs } = useConnection();
  const title =
    state === "reconnecting" && retryInMs !== undefined
      ? `Live updates interrupted; retrying in ${Math.ceil(retryInMs / 1000)} s`
      : state === "open"
        ? "Live updates connected"
        : "Connecting to live updates";
  return (
    <span role="status" title={title} aria-label={title} data-testid="connection" data-state={state} className="inline-flex items-center gap-1.5 text-xs text-slate-400">
      <span className={`h-2 w-2 rounded-full ${DOT[state]}`} aria-hidden />
      <span className="hidden sm:inline">{LABEL[state]}</span>
    </span>
  );
}

/** Who is signed in, and signing out. */
export function UserMenu() {
  const { me, signOut } = useAuth();
  const [open, setOpen] = useState(false);
  return (
    <div className="relative">
      <button
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="user-menu"
        onClick={() => setOpen(!open)}
        className="max-w-24 truncate rounded-md px-2 py-1.5 text-sm text-slate-300 hover:bg-slate-800 hover:text-white"
      >
        {me.name}
      </button>
      {open && (
        <div role="menu" className="absolute right-0 mt-1 w-48 rounded-md border border-slate-700 bg-slate-900 p-1 shadow-lg">
          <p className="px-3 py-1.5 text-xs text-slate-500">Signed in as {me.name} ({me.role})</p>
          <Link href="/tokens" role="menuitem" onClick={() => setOpen(false)} className="block rounded px-3 py-1.5 text-sm text-slate-200 hover:bg-slate-800">
            API tokens
          </Link>
          {me.role === "admin" && (
            <Link href="/users" role="menuitem" onClick={() => setOpen(false)} className="block rounded px-3 py-1.5 text-sm text-slate-200 hover:bg-slate-800">
              Users
            </Link>
          )}
          {me.role === "admin" && (
            <Link href="/audit" role="menuitem" onClick={() => setOpen(false)} className="block rounded px-3 py-1.5 text-sm text-slate-200 hover:bg-slate-800">
              Audit log
            </Link>
          )}
          <button
            type="button"
            role="menuitem"
            onClick={() => void signOut()}
            className="block w-full rounded px-3 py-1.5 text-left text-sm text-slate-200 hover:bg-slate-800"
          >
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}
