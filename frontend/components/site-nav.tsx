"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useApp } from "@/hooks/use-app";
import "@/styles/site-header.css";

const LINKS = [
  { href: "/chat", label: "Chat", match: (path: string) => path === "/" || path.startsWith("/chat") },
  { href: "/factoids", label: "Factoids", match: (path: string) => path.startsWith("/factoids") },
  { href: "/channels", label: "Channels", match: (path: string) => path.startsWith("/channels") },
  { href: "/thumbnails", label: "Thumbnails", match: (path: string) => path.startsWith("/thumbnails") },
  { href: "/search", label: "Search", match: (path: string) => path.startsWith("/search") },
  { href: "/history", label: "History", match: (path: string) => path.startsWith("/history") },
];

export function SiteNav() {
  const pathname = usePathname() ?? "/";
  const { account } = useApp();
  const accountCurrent = pathname.startsWith("/account") || pathname.startsWith("/billing");
  return (
    <header className="site-header">
      <Link href="/chat" className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" width="24" height="24" aria-hidden="true" focusable="false">
          <rect width="32" height="32" rx="7" fill="#3451d1" />
          <path d="M9 22V10m5 12V14m5 8v-5m5 5V8" stroke="#fff" strokeWidth="3" strokeLinecap="round" />
        </svg>
        <span className="brand-name">InsightStream</span>
      </Link>
      <nav aria-label="Main" className="site-nav-wrap">
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
          <li className="nav-account">
            <Link
              href="/account"
              className="account-link"
              data-testid="nav-account"
              data-signed-in={account ? "true" : "false"}
              aria-current={accountCurrent ? "page" : undefined}
              aria-label={account ? `Account: ${account.email}` : undefined}
              title={account ? account.email : undefined}
            >
              {account ? <span className="account-email">{account.email}</span> : "Account"}
            </Link>
          </li>
        </ul>
      </nav>
    </header>
  );
}
