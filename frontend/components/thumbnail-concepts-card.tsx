"use client";
/** The thumbnail tool's result in a chat: each concept's image, fetched by id so its signed
 * URL is fresh when the card is shown (the transcript keeps ids, never URLs). */
import Link from "next/link";
import { useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Thumbnail } from "@/lib/api/schemas";
import "@/styles/thumbnails.css";

type Concept = { thumbnail_id: string; provider: string; offline: boolean; width: number; height: number };
export type ThumbnailToolOutput = {
  title?: string;
  thumbnails: Concept[];
  stopped?: string | null;
  note?: string;
};

type Loaded = { status: "loading" } | { status: "ok"; thumbnail: Thumbnail } | { status: "gone" };

const PROVIDERS: Record<string, string> = {
  replicate: "Replicate",
  pollinations: "Pollinations",
  offline: "Offline title card (not AI)",
};

function ConceptImage({ concept, index }: { concept: Concept; index: number }) {
  const [loaded, setLoaded] = useState<Loaded>({ status: "loading" });
  useEffect(() => {
    let live = true;
    api
      .thumbnail(concept.thumbnail_id)
      .then((thumbnail) => live && setLoaded({ status: "ok", thumbnail }))
      .catch(() => live && setLoaded({ status: "gone" }));
    return () => {
      live = false;
    };
  }, [concept.thumbnail_id]);
  return (
    <li className="thumbnail concept" data-testid="thumbnail-concept" data-provider={concept.provider}>
      {loaded.status === "ok" ? (
        // eslint-disable-next-line @next/next/no-img-element -- a signed, private URL
        <img
          src={loaded.thumbnail.url}
          alt={`Thumbnail concept ${index + 1}: ${loaded.thumbnail.title || loaded.thumbnail.prompt}`}
          width={concept.width}
          height={concept.height}
        />
      ) : (
        <div className="thumbnail-placeholder muted small">
          {loaded.status === "loading" ? "Loading…" : "Deleted from your gallery"}
        </div>
      )}
      <p className="small muted thumbnail-by">
        {concept.offline && <span className="badge">offline</span>} {PROVIDERS[concept.provider] ?? concept.provider}
      </p>
    </li>
  );
}

export function ThumbnailConceptsCard({ output }: { output: ThumbnailToolOutput }) {
  return (
    <div className="tool-result">
      <ul className="thumbnail-grid concepts">
        {output.thumbnails.map((concept, index) => (
          <ConceptImage key={concept.thumbnail_id} concept={concept} index={index} />
        ))}
      </ul>
      {output.stopped && <p className="notice small">{output.stopped}</p>}
      {output.note && <p className="muted small">{output.note}</p>}
      <p className="small">
        <Link href="/thumbnails">Open your thumbnail gallery</Link>
      </p>
    </div>
  );
}
