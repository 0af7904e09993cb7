import Link from "next/link";

export default function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        <Link href="/chat">Go to the chat</Link>
      </p>
    </div>
  );
}
