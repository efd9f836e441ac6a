/** The Dashboard page (being built). */
export function DashboardPage() {
  return <h1 className="text-2xl font-semibold text-white">Dashboard</h1>;
}
