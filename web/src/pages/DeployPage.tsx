/** The Deploy page (being built). */
export function DeployPage() {
  return <h1 className="text-2xl font-semibold text-white">Deploy</h1>;
}
