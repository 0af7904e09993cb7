"use client";
/** The scored videos, sortable by SmartScore, views ÷ median, views and date. */
import { useMemo, useState } from "react";
import type { OutlierVideo } from "@/lib/api/schemas";
import { formatDate, formatNumber } from "@/lib/format";

type Key = "smart_score" | "views_to_median" | "views" | "published_at";

const COLUMNS: { key: Key; label: string }[] = [
  { key: "published_at", label: "Published" },
  { key: "views", label: "Views" },
  { key: "smart_score", label: "SmartScore" },
  { key: "views_to_median", label: "Views ÷ median" },
];

export function sortVideos(videos: OutlierVideo[], key: Key, descending: boolean): OutlierVideo[] {
  const value = (video: OutlierVideo) =>
    key === "published_at" ? new Date(video.published_at).getTime() : (video[key] ?? -Infinity);
  return [...videos].sort((a, b) => (descending ? value(b) - value(a) : value(a) - value(b)));
}

export function OutlierTable({ videos, listing }: { videos: OutlierVideo[]; listing: string }) {
  const [sort, setSort] = useState<{ key: Key; descending: boolean }>({ key: "smart_score", descending: true });
  const rows = useMemo(() => sortVideos(videos, sort.key, sort.descending), [videos, sort]);

  return (
    <div className="table-wrap">
      <table className="outliers" data-testid="outlier-table">
        <caption>
          Scored videos <span className="small muted">({listing})</span>
        </caption>
        <thead>
          <tr>
            <th scope="col">Title</th>
            {COLUMNS.map((column) => {
              const active = sort.key === column.key;
              return (
                <th
                  key={column.key}
                  scope="col"
                  aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}
                >
                  <button
                    type="button"
                    className="sort"
                    onClick={() =>
                      setSort({ key: column.key, descending: active ? !sort.descending : true })
                    }
                  >
                    {column.label}
                    <span aria-hidden="true">{active ? (sort.descending ? " ▼" : " ▲") : ""}</span>
                  </button>
                </th>
              );
            })}
            <th scope="col">Flag</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((video) => (
            <tr key={video.video_id} className={`flag-${video.flag}`}>
              <th scope="row">
                {video.title}
                <span className="small muted"> {video.group === "shorts" ? "· Short" : ""}</span>
              </th>
              <td>{formatDate(video.published_at)}</td>
              <td>{formatNumber(video.views)}</td>
              <td>{formatNumber(video.smart_score, 3)}</td>
              <td>{video.views_to_median === null ? "—" : `${formatNumber(video.views_to_median, 2)}×`}</td>
              <td>{video.flag === "none" ? "" : <span className={`badge flag-${video.flag}`}>{video.flag}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
