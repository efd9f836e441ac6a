/** The Costs page (being built). */
export function CostsPage() {
  return <h1 className="text-2xl font-semibold text-white">Costs</h1>;
}
