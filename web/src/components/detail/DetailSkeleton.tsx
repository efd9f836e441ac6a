/** The detail page's shape while it loads: the same blocks, the same sizes. */
import { Card, Skeleton } from "../ui";

function Block({ title, className }: { title: string; className: string }) {
  return (
    <Card className="p-4">
      <p className="text-base font-semibold text-slate-500">{title}</p>
      <Skeleton className={`mt-4 w-full ${className}`} />
    </Card>
  );
}

export function DetailSkeleton() {
  return (
    <div className="space-y-6" aria-busy="true" aria-label="Loading deployment" data-testid="detail-loading">
      <div className="space-y-4">
        <Skeleton className="h-5 w-28" />
        <div className="flex flex-col gap-4 sm:flex-row sm:justify-between">
          <div className="space-y-3">
            <Skeleton className="h-8 w-56" />
            <div className="flex flex-wrap gap-6">
              {["w-28", "w-20", "w-24", "w-16"].map((w) => (
                <Skeleton key={w} className={`h-9 ${w}`} />
              ))}
            </div>
          </div>
          <Skeleton className="h-9 w-72 max-w-full" />
        </div>
      </div>
      <div className="grid gap-6 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
        <div className="space-y-6">
          <Block title="Setup" className="h-72" />
          <Block title="Cost" className="h-40" />
        </div>
        <div className="space-y-6">
          <Block title="Utilisation" className="h-56" />
          <Block title="Logs" className="h-[26rem] lg:h-[32rem]" />
        </div>
      </div>
    </div>
  );
}
