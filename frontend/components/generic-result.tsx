/** Any other tool result, readable: nested fields as a definition list, raw JSON on demand. */
import { humanize } from "@/lib/format";
import "@/styles/tool-results.css";

const MAX_ITEMS = 20;
const MAX_DEPTH = 3;

function Value({ value, depth }: { value: unknown; depth: number }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === "number") return <>{value.toLocaleString("en-US", { maximumFractionDigits: 3 })}</>;
  if (typeof value === "boolean") return <>{value ? "yes" : "no"}</>;
  if (typeof value === "string") return <>{value}</>;
  if (depth >= MAX_DEPTH) return <code>{JSON.stringify(value).slice(0, 200)}</code>;
  if (Array.isArray(value)) {
    if (!value.length) return <span className="muted">none</span>;
    if (value.every((item) => typeof item !== "object" || item === null)) {
      return <>{value.slice(0, MAX_ITEMS).map(String).join(", ")}</>;
    }
    return (
      <ol className="generic-list">
        {value.slice(0, MAX_ITEMS).map((item, index) => (
          <li key={index}>
            <Value value={item} depth={depth + 1} />
          </li>
        ))}
        {value.length > MAX_ITEMS && <li className="muted">…and {value.length - MAX_ITEMS} more</li>}
      </ol>
    );
  }
  return <Fields record={value as Record<string, unknown>} depth={depth + 1} />;
}

function Fields({ record, depth }: { record: Record<string, unknown>; depth: number }) {
  return (
    <dl className="generic">
      {Object.entries(record).map(([key, value]) => (
        <div key={key}>
          <dt>{humanize(key)}</dt>
          <dd>
            <Value value={value} depth={depth} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

export function GenericResult({ output }: { output: unknown }) {
  return (
    <div className="tool-result">
      {output && typeof output === "object" && !Array.isArray(output) ? (
        <Fields record={output as Record<string, unknown>} depth={0} />
      ) : (
        <Value value={output} depth={0} />
      )}
      <details className="small">
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(output, null, 2)}</pre>
      </details>
    </div>
  );
}
