/**
 * Queries and mutations shared across pages. Live events keep these fresh (see live/), so
 * nothing here polls except health, whose reconciler age changes without events.
 */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { listWithLaterCosts, withLaterCost } from "../lib/cost";
import { keys } from "../live/applyEvent";
import * as api from "./generated";

export { keys };

export function useHealth() {
  return useQuery({ queryKey: keys.health, queryFn: ({ signal }) => api.getHealth({ signal }), refetchInterval: 15_000 });
}

// Every read of a deployment goes through these two, so that cost so far never goes back (see
// `laterCost`): a read that left before the last event may arrive after it.

/** GET /deployments, merged into what the cache shows. */
export async function fetchDeployments(client: QueryClient, signal?: AbortSignal): Promise<api.DeploymentList> {
  const fresh = await api.listDeployments(undefined, { signal });
  return listWithLaterCosts(client.getQueryData<api.DeploymentList>(keys.deployments), fresh);
}

/** GET /deployments/{id}, merged into what the cache shows. */
export async function fetchDeployment(client: QueryClient, id: string, signal?: AbortSignal): Promise<api.DeploymentDetail> {
  const fresh = await api.getDeployment(id, { signal });
  return withLaterCost(client.getQueryData<api.DeploymentDetail>(keys.deployment(id)), fresh);
}

export function useDeployments() {
  const client = useQueryClient();
  return useQuery({ queryKey: keys.deployments, queryFn: ({ signal }) => fetchDeployments(client, signal) });
}

export function useDeployment(id: string) {
  const client = useQueryClient();
  return useQuery({ queryKey: keys.deployment(id), queryFn: ({ signal }) => fetchDeployment(client, id, signal) });
}

/** Spend today and this month, burn rate, balance: the dashboard's summary and the Costs page's. */
export function useCostSummary() {
  return useQuery({ queryKey: [...keys.costs, "summary"], queryFn: ({ signal }) => api.costSummary({ signal }) });
}

export type DeploymentAction = "stop" | "start" | "restart" | "terminate";
const ACTIONS: Record<DeploymentAction, (id: string) => Promise<api.DeploymentView>> = {
  stop: api.stopDeployment,
  start: api.startDeployment,
  restart: api.restartDeployment,
  terminate: api.terminateDeployment,
};

/** Stop, start, restart or terminate; the answer is written into the cache at once. */
export function useDeploymentAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: DeploymentAction }) => ACTIONS[action](id),
    onSuccess: (view) => {
      client.setQueryData<api.DeploymentList>(keys.deployments, (list) =>
        list && { ...list, deployments: list.deployments.map((d) => (d.id === view.id ? withLaterCost(d, view) : d)) },
      );
      client.setQueryData<api.DeploymentDetail>(keys.deployment(view.id), (detail) => detail && withLaterCost(detail, { ...detail, ...view }));
      void client.invalidateQueries({ queryKey: keys.deployment(view.id) });
    },
  });
}

/** Keep a pod from idle actions for `minutes`; the answer (with its idle clock) goes into the cache. */
export function useKeepAwake() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, minutes }: { id: string; minutes: number }) => api.keepAwake(id, { minutes }),
    onSuccess: (view) => {
      client.setQueryData<api.DeploymentList>(keys.deployments, (list) =>
        list && { ...list, deployments: list.deployments.map((d) => (d.id === view.id ? withLaterCost(d, view) : d)) },
      );
      client.setQueryData<api.DeploymentDetail>(keys.deployment(view.id), (detail) => detail && withLaterCost(detail, { ...detail, ...view }));
    },
  });
}
