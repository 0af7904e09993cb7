"use client";
/** Thumbnails: make concepts for a video idea, see every one you kept (newest first), delete. */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { ErrorBanner } from "@/components/error-banner";
import { formatWhen } from "@/components/history-screen";
import { api } from "@/lib/api";
import type {
  Channel,
  Thumbnail,
  ThumbnailAnalysis,
  ThumbnailComparison,
  ThumbnailCritique,
} from "@/lib/api/schemas";
import "@/styles/thumbnails.css";

const PROVIDER_LABELS: Record<string, string> = {
  replicate: "Replicate",
  pollinations: "Pollinations",
  offline: "Offline title card (not AI)",
};

function madeBy(thumbnail: Thumbnail): string {
  const failed = thumbnail.attempts.filter((a) => !a.ok).map((a) => PROVIDER_LABELS[a.provider] ?? a.provider);
  const by = PROVIDER_LABELS[thumbnail.provider] ?? thumbnail.provider;
  return failed.length ? `${by} (after ${failed.join(", ")} failed)` : by;
}

function ThumbnailCard({ thumbnail, onDelete }: { thumbnail: Thumbnail; onDelete: (id: string) => void }) {
  return (
    <li className="card thumbnail" data-testid="thumbnail" data-provider={thumbnail.provider}>
      {/* eslint-disable-next-line @next/next/no-img-element -- a signed, private URL */}
      <img
        src={thumbnail.url}
        alt={`Thumbnail concept: ${thumbnail.title || thumbnail.prompt}`}
        width={thumbnail.width}
        height={thumbnail.height}
        loading="lazy"
      />
      <div className="thumbnail-meta small">
        {thumbnail.offline && <span className="badge">offline</span>}
        <p className="thumbnail-prompt">{thumbnail.title || thumbnail.prompt}</p>
        <p className="muted">
          {madeBy(thumbnail)} · {thumbnail.model} · ${Number(thumbnail.cost_usd).toFixed(4)} ·{" "}
          <time dateTime={thumbnail.created_at}>{formatWhen(thumbnail.created_at)}</time>
        </p>
        <button type="button" className="ghost" onClick={() => onDelete(thumbnail.id)}>
          Delete
        </button>
      </div>
    </li>
  );
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

const CRITIQUE_ASPECTS: [keyof Omit<ThumbnailCritique, "tags" | "summary">, string][] = [
  ["text_legibility", "Text at phone size"],
  ["faces", "Faces"],
  ["contrast", "Contrast"],
  ["clutter", "Clutter"],
];

/** A vision model's tags and critique: labelled as the model's opinion, apart from the measurements. */
export function ThumbnailCritiqueView({ critique, model }: { critique: ThumbnailCritique; model: string | null }) {
  return (
    <section className="thumbnail-critique" data-testid="thumbnail-critique" aria-label="Vision model critique">
      <h3>Critique{model ? ` by ${model}` : ""} (a model's opinion)</h3>
      {critique.tags.length > 0 && (
        <ul className="tags" aria-label="Tags">
          {critique.tags.map((tag) => (
            <li key={tag}>{tag}</li>
          ))}
        </ul>
      )}
      <dl>
        {CRITIQUE_ASPECTS.map(([key, label]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd>{critique[key]}</dd>
          </div>
        ))}
      </dl>
      <p>{critique.summary}</p>
    </section>
  );
}

/** Upload a thumbnail: what its pixels measure and, when a vision model looked, its critique. */
/** The upload beside the chosen channel's outlier thumbnails: what differs, in words. */
function ComparisonView({ comparison }: { comparison: ThumbnailComparison }) {
  const { compared_with: count, summary } = comparison.comparison;
  return (
    <div className="thumbnail-comparison" data-testid="thumbnail-comparison">
      <h3>Beside the outliers of {comparison.channel_title}</h3>
      {count === 0 ? (
        <p className="muted small">
          No outlier thumbnail could be compared
          {comparison.skipped.length ? ` (${comparison.skipped.map((s) => s.reason).join("; ")})` : ""}.
        </p>
      ) : (
        <>
          <ul className="small">
            {summary.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
          <p className="muted small">
            Compared with: {comparison.outliers.map((o) => `${o.title} (${o.views.toLocaleString()} views)`).join(" · ")}
          </p>
        </>
      )}
      <p className="muted small">{comparison.note}</p>
    </div>
  );
}

export function AnalysePanel() {
  const [result, setResult] = useState<ThumbnailAnalysis | null>(null);
  const [comparison, setComparison] = useState<ThumbnailComparison | null>(null);
  const [channels, setChannels] = useState<Channel[]>([]);
  const [channelId, setChannelId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .channels()
      .then((page) => setChannels(page.results))
      .catch(() => setChannels([]));
  }, []);

  async function analyse(file: File | undefined) {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const [analysed, compared] = await Promise.all([
        api.analyseThumbnail(file),
        channelId ? api.compareThumbnail(channelId, file) : Promise.resolve(null),
      ]);
      setResult(analysed);
      setComparison(compared);
    } catch (err) {
      setResult(null);
      setComparison(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const m = result?.measured;
  return (
    <section className="card thumbnail-analyse" aria-label="Analyse a thumbnail">
      <h2>Analyse a thumbnail</h2>
      {channels.length > 0 && (
        <label>
          Compare with the outliers of
          <select value={channelId} disabled={busy} onChange={(event) => setChannelId(event.target.value)}>
            <option value="">(no comparison)</option>
            {channels.map((channel) => (
              <option key={channel.id} value={channel.id}>
                {channel.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Image (PNG, JPEG or WebP, up to 2 MB)
        <input
          type="file"
          accept="image/png,image/jpeg,image/webp"
          disabled={busy}
          onChange={(event) => void analyse(event.target.files?.[0])}
        />
      </label>
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
      {m && (
        <div data-testid="thumbnail-analysis">
          <table className="small">
            <caption className="muted">Measured from the pixels</caption>
            <tbody>
              <tr>
                <th scope="row">Size</th>
                <td>
                  {m.width}×{m.height} ({m.is_16_9 ? "16:9" : `aspect ${m.aspect_ratio}`}) · {m.format} ·{" "}
                  {Math.round(m.file_size_bytes / 1024)} KB
                </td>
              </tr>
              <tr>
                <th scope="row">Brightness</th>
                <td>{percent(m.brightness)}</td>
              </tr>
              <tr>
                <th scope="row">Contrast</th>
                <td>{percent(m.contrast)}</td>
              </tr>
              <tr>
                <th scope="row">Text and detail area (estimate)</th>
                <td>{percent(m.detail_area_share)}</td>
              </tr>
              <tr>
                <th scope="row">Dominant colours</th>
                <td className="swatches">
                  {m.dominant_colours.map((c) => (
                    <span key={c.hex} className="swatch" title={`${c.hex}: ${percent(c.share)}`}>
                      <span style={{ background: c.hex }} aria-hidden="true" /> {c.hex} {percent(c.share)}
                    </span>
                  ))}
                </td>
              </tr>
            </tbody>
          </table>
          {result?.critique && <ThumbnailCritiqueView critique={result.critique} model={result.model ?? null} />}
          <p className="muted small">{result?.note}</p>
          {comparison && <ComparisonView comparison={comparison} />}
        </div>
      )}
    </section>
  );
}

export function ThumbnailsScreen() {
  const [prompt, setPrompt] = useState("");
  const [title, setTitle] = useState("");
  const [count, setCount] = useState(3);
  const [reference, setReference] = useState<File | null>(null);
  const [items, setItems] = useState<Thumbnail[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [hasMore, setHasMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async (next: number) => {
    try {
      const result = await api.thumbnails(next);
      setItems((current) => (next === 1 ? result.results : [...current, ...result.results]));
      setTotal(result.count);
      setHasMore(Boolean(result.next));
      setPage(next);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load(1);
  }, [load]);

  async function generate(event: FormEvent) {
    event.preventDefault();
    if (!prompt.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await api.makeThumbnails({ prompt: prompt.trim(), title: title.trim(), count, reference });
      await load(1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(thumbnailId: string) {
    try {
      await api.deleteThumbnail(thumbnailId);
      setItems((current) => current.filter((t) => t.id !== thumbnailId));
      setTotal((n) => Math.max(0, n - 1));
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div className="page thumbnails-page">
      <h1>Thumbnails</h1>
      <form className="card thumbnail-form" onSubmit={generate}>
        <label>
          What the thumbnail shows
          <textarea
            value={prompt}
            maxLength={500}
            rows={2}
            onChange={(event) => setPrompt(event.target.value)}
            placeholder="A latte with a rosetta, close-up, warm light"
          />
        </label>
        <label>
          Video title (optional; the offline card shows it)
          <input value={title} maxLength={200} onChange={(event) => setTitle(event.target.value)} />
        </label>
        <label>
          Concepts
          <select value={count} onChange={(event) => setCount(Number(event.target.value))}>
            {[1, 2, 3, 4].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Reference image (optional; Replicate follows it, the other providers ignore it)
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp"
            onChange={(event) => setReference(event.target.files?.[0] ?? null)}
          />
        </label>
        <button type="submit" disabled={busy || !prompt.trim()}>
          {busy ? "Making…" : "Make thumbnails"}
        </button>
      </form>
      <AnalysePanel />
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
      <p className="muted small" role="status">
        {total === 0 ? "No thumbnails yet." : `${total} thumbnail${total === 1 ? "" : "s"}, newest first.`}
      </p>
      <ul className="thumbnail-grid">
        {items.map((thumbnail) => (
          <ThumbnailCard key={thumbnail.id} thumbnail={thumbnail} onDelete={(tid) => void remove(tid)} />
        ))}
      </ul>
      {hasMore && (
        <button type="button" className="ghost" onClick={() => void load(page + 1)}>
          More
        </button>
      )}
    </div>
  );
}
