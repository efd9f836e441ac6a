import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Route, Switch } from "wouter";
import { Layout } from "./components/Layout";
import { LiveProvider } from "./live/LiveProvider";
import { CostsPage } from "./pages/CostsPage";
import { DashboardPage } from "./pages/DashboardPage";
import { DeployPage } from "./pages/DeployPage";
import { DeploymentPage } from "./pages/DeploymentPage";
import { NotFoundPage } from "./pages/NotFoundPage";

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
      <LiveProvider>
        <Layout>
          <Switch>
            <Route path="/" component={DashboardPage} />
            <Route path="/deploy" component={DeployPage} />
            <Route path="/deployments/:id">{(params) => <DeploymentPage id={params.id} />}</Route>
            <Route path="/costs" component={CostsPage} />
            <Route component={NotFoundPage} />
          </Switch>
        </Layout>
      </LiveProvider>
    </QueryClientProvider>
  );
}
