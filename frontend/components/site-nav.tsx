"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/chat", label: "Chat", match: (path: string) => path === "/" || path.startsWith("/chat") },
  { href: "/factoids", label: "Factoids", match: (path: string) => path.startsWith("/factoids") },
  { href: "/channels", label: "Channels", match: (path: string) => path.startsWith("/channels") },
];

export function SiteNav() {
  const pathname = usePathname() ?? "/";
  return (
    <header className="site-header">
      <Link href="/chat" className="brand">
        InsightStream
      </Link>
      <nav aria-label="Main">
        <ul className="site-nav">
          {LINKS.map((link) => {
            const current = link.match(pathname);
            return (
              <li key={link.href}>
                <Link href={link.href} aria-current={current ? "page" : undefined}>
                  {link.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
    </header>
  );
}
