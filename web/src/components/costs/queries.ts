/**
 * The Costs page's queries. Every key starts with "costs" or "budgets", so the live layer
 * refetches them on cost_update, budget_* and billing_mismatch events.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as api from "../../api/generated";
import { keys } from "../../api/queries";
import type { RangeDays } from "./range";

export const costKeys = {
  history: (days: RangeDays, start: string) => ["costs", "history", "day", days, start] as const,
  byDeployment: (start: string) => ["costs", "by-deployment", start] as const,
  byGpu: (start: string) => ["costs", "by-gpu", start] as const,
  reconciliation: ["costs", "reconciliation"] as const,
  budgets: keys.budgets,
};

export function useCostHistory(days: RangeDays, start: string) {
  return useQuery({
    queryKey: costKeys.history(days, start),
    queryFn: ({ signal }) => api.costHistory({ bucket: "day", start }, { signal }),
    placeholderData: (previous) => previous,
  });
}

export function useCostsByDeployment(start: string) {
  return useQuery({
    queryKey: costKeys.byDeployment(start),
    queryFn: ({ signal }) => api.costsByDeployment({ start }, { signal }),
    placeholderData: (previous) => previous,
  });
}

export function useCostsByGpu(start: string) {
  return useQuery({
    queryKey: costKeys.byGpu(start),
    queryFn: ({ signal }) => api.costsByGpu({ start }, { signal }),
    placeholderData: (previous) => previous,
  });
}

export function useReconciliation() {
  return useQuery({ queryKey: costKeys.reconciliation, queryFn: ({ signal }) => api.reconciliation(undefined, { signal }), retry: false });
}

/** Compare the meter with RunPod's bill now rather than show the last periodic check. */
export function useRefreshReconciliation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.reconciliation({ refresh: true }),
    onSuccess: (report) => client.setQueryData(costKeys.reconciliation, report),
  });
}

export function useBudgets() {
  return useQuery({ queryKey: costKeys.budgets, queryFn: ({ signal }) => api.listBudgets({ signal }) });
}

function useBudgetsChanged() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: costKeys.budgets });
}

export function useCreateBudget() {
  const changed = useBudgetsChanged();
  return useMutation({ mutationFn: (body: api.BudgetCreate) => api.createBudget(body), onSuccess: changed });
}

export function useUpdateBudget() {
  const changed = useBudgetsChanged();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: api.BudgetUpdate }) => api.updateBudget(id, body),
    onSuccess: changed,
  });
}

export function useDeleteBudget() {
  const changed = useBudgetsChanged();
  return useMutation({ mutationFn: (id: string) => api.deleteBudget(id), onSuccess: changed });
}
