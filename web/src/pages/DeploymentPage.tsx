/** The deployment detail page (being built). */
export function DeploymentPage({ id }: { id: string }) {
  return <h1 className="text-2xl font-semibold text-white">Deployment {id}</h1>;
}
