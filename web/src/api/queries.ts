/**
 * Queries and mutations shared across pages. Live events keep these fresh (see live/), so
 * nothing here polls except health, whose reconciler age changes without events.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { keys } from "../live/applyEvent";
import * as api from "./generated";

export { keys };

export function useHealth() {
  return useQuery({ queryKey: keys.health, queryFn: ({ signal }) => api.getHealth({ signal }), refetchInterval: 15_000 });
}

export function useDeployments() {
  return useQuery({ queryKey: keys.deployments, queryFn: ({ signal }) => api.listDeployments(undefined, { signal }) });
}

export function useDeployment(id: string) {
  return useQuery({ queryKey: keys.deployment(id), queryFn: ({ signal }) => api.getDeployment(id, { signal }) });
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
        list && { ...list, deployments: list.deployments.map((d) => (d.id === view.id ? view : d)) },
      );
      client.setQueryData<api.DeploymentDetail>(keys.deployment(view.id), (detail) => detail && { ...detail, ...view });
      void client.invalidateQueries({ queryKey: keys.deployment(view.id) });
    },
  });
}
