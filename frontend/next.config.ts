import type { NextConfig } from "next";

/**
 * A static export (`out/`) that Django serves on the API's origin (backend/core/frontend.py).
 * `next dev` cannot export, so there it proxies /api to a running backend instead
 * (INSIGHTSTREAM_API, default http://127.0.0.1:8000).
 */
const dev = process.env.NODE_ENV === "development";
const backend = process.env.INSIGHTSTREAM_API ?? "http://127.0.0.1:8000";

const nextConfig: NextConfig = {
  ...(dev
    ? {
        async rewrites() {
          return [
            { source: "/api/:path*", destination: `${backend}/api/:path*` },
            { source: "/api/:path*/", destination: `${backend}/api/:path*/` },
          ];
        },
      }
    : { output: "export" as const }),
  trailingSlash: false,
  skipTrailingSlashRedirect: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
