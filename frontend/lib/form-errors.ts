/**
 * A failed form submission, split the way a form shows it: messages under the fields the
 * backend named (`details.fields` of a VALIDATION_ERROR), a line for everything else, and
 * the errors that need the full banner (429 with its countdown, 503, no connection).
 */
import { ApiError } from "@/lib/api/errors";
import { toApiError } from "@/lib/errors";

export type FormErrors<F extends string> = {
  /** Per field of this form: "Password: This password is too short. …". */
  fields: Partial<Record<F, string>>;
  /** A message about the form as a whole (wrong password, an invalid link, other fields). */
  general: string | null;
  /** Shown with ErrorBanner: rate limits, outages, network failures. */
  banner: ApiError | null;
  /** Fields the backend named that this form does not show (e.g. a link's `token`). */
  otherFields: string[];
};

export const NO_ERRORS: FormErrors<never> = { fields: {}, general: null, banner: null, otherFields: [] };

/** Field names whose messages read well alone ("this link is invalid or has expired"). */
const SELF_EXPLAINING = new Set(["non_field_errors", "detail", "token", "uid"]);

/** Ends with a full stop ("is not correct" → "is not correct."). */
function finished(text: string): string {
  const trimmed = text.trim();
  return !trimmed || /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** Capitalised and finished, for a message that stands alone. */
function sentence(text: string): string {
  const done = finished(text);
  return done.charAt(0).toUpperCase() + done.slice(1);
}

function messagesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (typeof value === "string") return value ? [value] : [];
  if (value && typeof value === "object") return Object.values(value).flatMap(messagesOf);
  return [];
}

/**
 * `labels` names the form's fields as the person reads them ({password: "Password"});
 * a field the backend names but the form does not have goes into `general`, named too.
 */
export function formErrors<F extends string>(error: unknown, labels: Record<F, string>): FormErrors<F> {
  const api = toApiError(error);
  const result: FormErrors<F> = { fields: {}, general: null, banner: null, otherFields: [] };
  if (api.code === "VALIDATION_ERROR") {
    const raw = api.details.fields;
    const fields = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const other: string[] = [];
    for (const [name, value] of Object.entries(fields)) {
      const messages = messagesOf(value);
      if (!messages.length) continue;
      // After a field's name the backend's words stay as written ("Password: is not correct.").
      const named = messages.map(finished).join(" ");
      if (Object.hasOwn(labels, name)) {
        result.fields[name as F] = `${labels[name as F]}: ${named}`;
      } else if (SELF_EXPLAINING.has(name)) {
        if (name !== "non_field_errors" && name !== "detail") result.otherFields.push(name);
        other.push(messages.map(sentence).join(" "));
      } else {
        result.otherFields.push(name);
        other.push(`${sentence(name.replace(/_/g, " ")).replace(/\.$/, "")}: ${named}`);
      }
    }
    if (other.length) result.general = other.join(" ");
    else if (Object.keys(result.fields).length === 0) result.general = sentence(api.message);
    return result;
  }
  if (api.code === "UNAUTHORIZED" || api.code === "CONFLICT" || api.code === "FORBIDDEN") {
    // The backend's own words say what was wrong ("The email or password is not correct.").
    result.general = api.message;
    return result;
  }
  result.banner = api;
  return result;
}

/** The first field with an error, in the form's order (to move the focus there). */
export function firstInvalid<F extends string>(errors: FormErrors<F>, order: readonly F[]): F | null {
  return order.find((name) => errors.fields[name]) ?? null;
}
