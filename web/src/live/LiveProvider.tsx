/**
 * Runs the app's one EventSource, applies each event to the query cache, and tells components
 * the connection state (for the indicator).
 */
import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { applyToCache, staleKeys } from "./applyEvent";
import { EventStream, type ConnectionState } from "./eventStream";

interface Connection {
  state: ConnectionState;
  retryInMs: number | undefined;
}

const LiveContext = createContext<Connection>({ state: "connecting", retryInMs: undefined });

/** Refetch at most once per `intervalMs` per query, trailing, so bursts of events cost one fetch. */
function useThrottledInvalidate(intervalMs: number) {
  const client = useQueryClient();
  const pending = useRef(new Map<string, QueryKey>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  return (queryKeys: QueryKey[]) => {
    for (const key of queryKeys) pending.current.set(JSON.stringify(key), key);
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      const batch = [...pending.current.values()];
      pending.current.clear();
      for (const queryKey of batch) void client.invalidateQueries({ queryKey });
    }, intervalMs);
  };
}

export function LiveProvider({ children, url }: { children: ReactNode; url?: string }) {
  const client = useQueryClient();
  const [state, setState] = useState<ConnectionState>("connecting");
  const [retryInMs, setRetryInMs] = useState<number | undefined>();
  const invalidate = useThrottledInvalidate(750);
  const invalidateRef = useRef(invalidate);
  invalidateRef.current = invalidate;

  useEffect(() => {
    const stream = new EventStream({
      url,
      onEvent: (event) => {
        applyToCache(client, event);
        invalidateRef.current(staleKeys(event));
      },
      onState: (next, retry) => {
        setState(next);
        setRetryInMs(retry);
      },
      // The first connection starts with new events only: refetch what was loaded before it
      // opened. A resumed one replays what it missed, so nothing needs reloading.
      onOpen: (resumed) => {
        if (!resumed) void client.invalidateQueries();
      },
    });
    stream.start();
    return () => stream.stop();
  }, [client, url]);

  const value = useMemo(() => ({ state, retryInMs }), [state, retryInMs]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

/** The live connection's state, for the indicator. */
export function useConnection(): Connection {
  return useContext(LiveContext);
}
