import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { Redirect, Route, Switch } from "wouter";
import { AuthProvider } from "./auth/AuthProvider";
import { Layout } from "./components/Layout";
import { Spinner } from "./components/ui";
import { LiveProvider } from "./live/LiveProvider";
import { DashboardPage } from "./pages/DashboardPage";
import { NotFoundPage } from "./pages/NotFoundPage";

// The dashboard loads with the app; the other pages (and uPlot, which only the detail page
// draws with) load when first visited, so the first load carries only what it shows.
const DeployPage = lazy(() => import("./pages/DeployPage").then((m) => ({ default: m.DeployPage })));
const DeploymentPage = lazy(() =>
  import("./pages/DeploymentPage").then((m) => ({ default: m.DeploymentPage })),
);
const CostsPage = lazy(() => import("./pages/CostsPage").then((m) => ({ default: m.CostsPage })));
const TokensPage = lazy(() => import("./pages/TokensPage").then((m) => ({ default: m.TokensPage })));
const AuditPage = lazy(() => import("./pages/AuditPage").then((m) => ({ default: m.AuditPage })));
const UsersPage = lazy(() => import("./pages/UsersPage").then((m) => ({ default: m.UsersPage })));
const WorkflowsPage = lazy(() => import("./pages/WorkflowsPage").then((m) => ({ default: m.WorkflowsPage })));
const RunsPage = lazy(() => import("./pages/RunsPage").then((m) => ({ default: m.RunsPage })));
const RunPage = lazy(() => import("./pages/RunPage").then((m) => ({ default: m.RunPage })));
const GalleryPage = lazy(() => import("./pages/GalleryPage").then((m) => ({ default: m.GalleryPage })));
const ManifestDocPage = lazy(() => import("./pages/ManifestDocPage").then((m) => ({ default: m.ManifestDocPage })));

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 30_000, retry: 1, refetchOnWindowFocus: false },
    },
  });
}

export function App({ client = makeQueryClient() }: { client?: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <AuthProvider>
        <LiveProvider>
          <Layout>
          <Suspense fallback={<Spinner label="Loading page" />}>
            <Switch>
              <Route path="/" component={DashboardPage} />
              <Route path="/deploy" component={DeployPage} />
              <Route path="/deployments/:id">{(params) => <DeploymentPage id={params.id} />}</Route>
              <Route path="/costs" component={CostsPage} />
              <Route path="/workflows">{() => <WorkflowsPage />}</Route>
              <Route path="/workflows/:id">{(params) => <WorkflowsPage id={params.id} />}</Route>
              <Route path="/runs" component={RunsPage} />
              <Route path="/runs/:id">{(params) => <RunPage id={params.id} />}</Route>
              <Route path="/gallery" component={GalleryPage} />
              <Route path="/docs/manifest" component={ManifestDocPage} />
              <Route path="/tokens" component={TokensPage} />
              <Route path="/users" component={UsersPage} />
              <Route path="/audit" component={AuditPage} />
              <Route path="/login">
                <Redirect to="/" />
              </Route>
              <Route component={NotFoundPage} />
            </Switch>
          </Suspense>
          </Layout>
        </LiveProvider>
      </AuthProvider>
    </QueryClientProvider>
  );
}
