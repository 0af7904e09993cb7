// First: the app-wide styles come before every component's own (styles/).
import "./globals.css";
import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { AppGate, AppProvider } from "@/components/app-provider";
import { SiteNav } from "@/components/site-nav";

export const metadata: Metadata = {
  title: "InsightStream",
  description: "An AI assistant for video creators: ideas, keywords, hashtags and channel analytics.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <AppProvider>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <SiteNav />
          <main id="main">
            <AppGate>{children}</AppGate>
          </main>
        </AppProvider>
      </body>
    </html>
  );
}
