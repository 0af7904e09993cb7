/** Words and numbers for the account and billing screens (pure). */
import type { AccountLimits, CreditEntry, Me, Price } from "@/lib/api/schemas";

/** Signed in to an account: the browser's identity is Django's session cookie. */
export function isSignedIn(me: Pick<Me, "via"> | null | undefined): boolean {
  return me?.via === "session" || me?.via === "jwt";
}

/** "1" → "$1.00", "0.000123" → "$0.000123" (small amounts keep their digits), null → "—". */
export function formatUsd(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const amount = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(amount)) return String(value);
  const sign = amount < 0 ? "−" : "";
  const abs = Math.abs(amount);
  if (abs !== 0 && abs < 0.01) {
    return `${sign}$${abs.toFixed(6).replace(/0+$/, "")}`;
  }
  return `${sign}$${abs.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const PLAN_NAMES: Record<string, string> = {
  free: "Free",
  pro: "Pro",
  anonymous: "Visitor",
  paid: "Paid",
};

export function planName(plan: string): string {
  return PLAN_NAMES[plan] ?? plan.charAt(0).toUpperCase() + plan.slice(1);
}

export type LimitRow = { label: string; value: string };

/** The guard's limits for the account, as a definition list. */
export function limitRows(limits: AccountLimits): LimitRow[] {
  const rows: LimitRow[] = [
    {
      label: "Daily AI budget",
      value: limits.daily_usd === null ? "No daily limit" : `${formatUsd(limits.daily_usd)} per day (UTC)`,
    },
    {
      label: "Largest single request",
      value: limits.max_call_usd === null ? "No limit" : formatUsd(limits.max_call_usd),
    },
    {
      label: "Requests per minute",
      value: limits.requests_per_minute === null ? "No limit" : String(limits.requests_per_minute),
    },
    {
      label: "Simultaneous runs",
      value: limits.max_concurrent === null ? "No limit" : String(limits.max_concurrent),
    },
  ];
  if (limits.with_credits) {
    rows.push({
      label: "With credits",
      value: `up to ${formatUsd(limits.with_credits.daily_usd)} per day, ${formatUsd(
        limits.with_credits.max_call_usd,
      )} per request`,
    });
  }
  return rows;
}

/** What a price key buys, in words ("Pro plan — subscription", "$10.00 of credits"). */
export function priceTitle(price: Price): string {
  if (price.mode === "subscription") return `${planName(price.plan ?? "pro")} plan`;
  if (price.credits_usd) return `${formatUsd(price.credits_usd)} of credits`;
  return price.price_key;
}

export function priceDescription(price: Price): string {
  if (price.mode === "subscription") {
    return "A subscription with larger daily budgets and rate limits; cancel at any time.";
  }
  return "A one-off credit pack: spent on model calls once your plan's daily budget is used up.";
}

// Stripe's currencies without a minor unit: their unit_amount is already whole units.
const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);

/** "$9.00 / month" or "$10.00" from Stripe's amount, or null when it is not known. */
export function priceAmount(price: Price): string | null {
  const amount = price.amount;
  if (!amount || amount.unit_amount === null || !amount.currency) return null;
  const currency = amount.currency.toLowerCase();
  const units = ZERO_DECIMAL.has(currency) ? amount.unit_amount : amount.unit_amount / 100;
  const text = new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(units);
  return amount.interval ? `${text} / ${amount.interval}` : text;
}

/** Whether the price can be bought by this account (no second Pro subscription). */
export function canBuy(price: Price, plan: string): boolean {
  return !(price.mode === "subscription" && price.plan !== null && price.plan === plan);
}

const CREDIT_KINDS: Record<string, string> = {
  purchase: "Credit pack purchased",
  refund: "Refund",
  dispute: "Dispute",
  usage: "Used by model calls",
  adjustment: "Adjustment",
};

export function creditKindLabel(entry: Pick<CreditEntry, "kind">): string {
  return CREDIT_KINDS[entry.kind] ?? entry.kind;
}

/** A fresh Idempotency-Key for one checkout click. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
