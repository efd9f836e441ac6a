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

// --- workflows, runs, outputs -----------------------------------------------------------------
// Runs and outputs change through run events (live/applyEvent.ts): nothing here polls.

export function useWorkflows() {
  return useQuery({ queryKey: keys.workflows, queryFn: ({ signal }) => api.listWorkflows({ limit: 200 }, { signal }) });
}

export function useWorkflow(id: string | undefined) {
  return useQuery({
    queryKey: keys.workflow(id ?? ""),
    queryFn: ({ signal }) => api.getWorkflow(id!, { signal }),
    enabled: id !== undefined,
  });
}

/** Upload a workflow file (JSON, PNG or WebP) into the library. */
export function useAddWorkflow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ file, name, description, tags }: { file: File; name: string; description: string; tags: string }) => {
      const form = new FormData();
      form.append("file", file);
      form.append("name", name);
      if (description) form.append("description", description);
      if (tags) form.append("tags", tags);
      return api.createWorkflow(form);
    },
    onSuccess: (detail) => {
      client.setQueryData(keys.workflow(detail.id), detail);
      void client.invalidateQueries({ queryKey: keys.workflows });
    },
  });
}

export function useDeleteWorkflow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.deleteWorkflow(id),
    onSuccess: (_, id) => {
      client.removeQueries({ queryKey: keys.workflow(id) });
      void client.invalidateQueries({ queryKey: keys.workflows });
    },
  });
}

export function useComfyuiServers() {
  return useQuery({ queryKey: keys.servers, queryFn: ({ signal }) => api.listComfyuiServers({ signal }) });
}

export type RunFilters = NonNullable<Parameters<typeof api.listRuns>[0]>;

export function useRuns(filters: RunFilters = {}) {
  return useQuery({ queryKey: [...keys.runs, filters], queryFn: ({ signal }) => api.listRuns({ limit: 100, ...filters }, { signal }) });
}

export function useRun(id: string) {
  return useQuery({ queryKey: keys.run(id), queryFn: ({ signal }) => api.getRun(id, { signal }) });
}

/** The address of the run's latest preview image, once a `run_progress` event named one. */
export function useRunPreview(id: string) {
  const client = useQueryClient();
  // Only events write it; a refetch (the app refreshes everything when the stream first opens)
  // keeps what is there.
  return useQuery<string | null>({
    queryKey: keys.runPreview(id),
    queryFn: () => client.getQueryData<string | null>(keys.runPreview(id)) ?? null,
    staleTime: Infinity,
    initialData: null,
  });
}

/** Queue `count` runs; their `run_queued` events (and this answer) bring them into the lists. */
export function useCreateRuns() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: api.RunCreate) => api.createRuns(body),
    onSuccess: (batch) => {
      for (const run of batch.runs) client.setQueryData(keys.run(run.id), run);
      void client.invalidateQueries({ queryKey: keys.runs });
    },
  });
}

export function useCancelRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.cancelRun(id),
    onSuccess: (run) => {
      client.setQueryData(keys.run(run.id), run);
      client.setQueriesData<api.RunList>({ queryKey: keys.runs }, (list) =>
        list && { ...list, items: list.items.map((r) => (r.id === run.id ? run : r)) },
      );
    },
  });
}

export type OutputFilters = NonNullable<Parameters<typeof api.listOutputs>[0]>;

export function useOutputs(filters: OutputFilters = {}) {
  return useQuery({
    queryKey: [...keys.outputs, filters],
    queryFn: ({ signal }) => api.listOutputs({ limit: 200, ...filters }, { signal }),
  });
}

/** Register a ComfyUI that ComfyHangar does not manage; its auth value is never shown again. */
export function useRegisterServer() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: api.ServerCreate) => api.createComfyuiServer(body),
    onSuccess: () => void client.invalidateQueries({ queryKey: keys.servers }),
  });
}

/** Put an input image on a run target's ComfyUI; its `reference` is what a LoadImage input takes. */
export function useUploadInputFile() {
  return useMutation({
    mutationFn: ({ file, target }: { file: File; target: { deployment_id: string } | { server_id: string } }) => {
      const form = new FormData();
      form.append("file", file);
      for (const [key, value] of Object.entries(target)) form.append(key, value);
      return api.uploadInputFile(form);
    },
  });
}

/** A new version of a workflow from a file (the versions before it stay, unchanged). */
export function useAddWorkflowVersion() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, file, note }: { id: string; file: File; note: string }) => {
      const form = new FormData();
      form.append("file", file);
      if (note) form.append("note", note);
      return api.addWorkflowVersion(id, form);
    },
    onSuccess: (detail) => {
      client.setQueryData(keys.workflow(detail.id), detail);
      void client.invalidateQueries({ queryKey: keys.workflows });
    },
  });
}
