import { Link } from "wouter";
import { EmptyState } from "../components/ui";

export function NotFoundPage() {
  return (
    <EmptyState title="Nothing here">
      <Link href="/" className="text-sky-400 hover:underline">
        Back to the dashboard
      </Link>
    </EmptyState>
  );
}
