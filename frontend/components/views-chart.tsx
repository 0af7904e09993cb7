"use client";
/** Publish date against views (log scale) for every video; outliers in their own colours. */
import {
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { Video } from "@/lib/api/schemas";
import { formatCompact, formatDate, formatNumber } from "@/lib/format";
import "@/styles/channels.css";

type Point = { t: number; views: number; title: string; flag: string };

function ChartTooltip({ active, payload }: { active?: boolean; payload?: { payload: Point }[] }) {
  const point = active ? payload?.[0]?.payload : undefined;
  if (!point) return null;
  return (
    <div className="chart-tooltip">
      <strong>{point.title}</strong>
      <div>{formatDate(new Date(point.t).toISOString())}</div>
      <div>{formatNumber(point.views)} views</div>
      {point.flag !== "none" && <div>{point.flag === "high" ? "High outlier" : "Low outlier"}</div>}
    </div>
  );
}

/** Powers of ten around the views: a log axis whose ticks read 100, 1K, 10K… */
export function logDomain(values: number[]): [number, number] {
  const positive = values.filter((v) => v > 0);
  if (!positive.length) return [1, 10];
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  let high = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  if (high <= low) high = low * 10;
  return [low, high];
}

export function ViewsChart({ videos, flags }: { videos: Video[]; flags: Map<string, string> }) {
  const points: Point[] = videos
    .filter((video) => video.views > 0)
    .map((video) => ({
      t: new Date(video.published_at).getTime(),
      views: video.views,
      title: video.title,
      flag: flags.get(video.video_id) ?? "none",
    }));
  const series = [
    { name: "Videos", flag: "none", color: "#8a94a6" },
    { name: "High outliers", flag: "high", color: "#0f9d58" },
    { name: "Low outliers", flag: "low", color: "#d93025" },
  ];
  const [low10, high10] = logDomain(points.map((p) => p.views));
  const ticks: number[] = [];
  for (let tick = low10; tick <= high10; tick *= 10) ticks.push(tick);
  const high = points.filter((p) => p.flag === "high").length;
  const low = points.filter((p) => p.flag === "low").length;
  return (
    <figure className="chart" aria-label="Views by publish date">
      <div className="chart-box">
        <ResponsiveContainer width="100%" height={320}>
          <ScatterChart margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              type="number"
              dataKey="t"
              name="Published"
              domain={["dataMin", "dataMax"]}
              tickFormatter={(t: number) => new Date(t).toISOString().slice(0, 7)}
            />
            <YAxis
              type="number"
              dataKey="views"
              name="Views"
              scale="log"
              domain={[low10, high10]}
              ticks={ticks}
              tickFormatter={(v: number) => formatCompact(v)}
              width={56}
            />
            <Tooltip content={<ChartTooltip />} />
            <Legend />
            {series.map((s) => (
              <Scatter
                key={s.flag}
                name={s.name}
                data={points.filter((p) => p.flag === s.flag)}
                fill={s.color}
                isAnimationActive={false}
              />
            ))}
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="small muted">
        {points.length} videos by publish date against views (log scale): {high} high and {low} low
        outliers highlighted.
      </figcaption>
    </figure>
  );
}
