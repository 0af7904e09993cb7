import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { firstInvalid, formErrors } from "@/lib/form-errors";

const LABELS = { email: "Email", password: "Password" };

function validation(fields: Record<string, unknown>, message = "invalid") {
  return ApiError.fromBody(400, { error: { code: "VALIDATION_ERROR", message, details: { fields } } });
}

describe("formErrors", () => {
  it("puts each message under the field the body names, with the field's name", () => {
    const errors = formErrors(
      validation({ password: ["This password is too short. It must contain at least 8 characters.", "This password is too common."] }),
      LABELS,
    );
    expect(errors.fields).toEqual({
      password: "Password: This password is too short. It must contain at least 8 characters. This password is too common.",
    });
    expect(errors.general).toBeNull();
    expect(errors.banner).toBeNull();
    expect(firstInvalid(errors, ["email", "password"])).toBe("password");
  });

  it("keeps the backend's lower-case phrases after the name and ends them", () => {
    const errors = formErrors(validation({ email: ["an account with this email already exists"] }), LABELS);
    expect(errors.fields.email).toBe("Email: an account with this email already exists.");
  });

  it("several fields: each under its own, focus goes to the first in the form's order", () => {
    const errors = formErrors(validation({ password: ["x"], email: ["Enter a valid email address."] }), LABELS);
    expect(Object.keys(errors.fields).sort()).toEqual(["email", "password"]);
    expect(firstInvalid(errors, ["email", "password"])).toBe("email");
  });

  it("a field the form does not show becomes a general line, named", () => {
    const errors = formErrors(validation({ price_key: ["unknown price key 'x'"] }), LABELS);
    expect(errors.fields).toEqual({});
    expect(errors.general).toBe("Price key: unknown price key 'x'.");
    expect(errors.otherFields).toEqual(["price_key"]);
  });

  it("a link's token reads alone", () => {
    const errors = formErrors(validation({ token: ["this link is invalid or has expired"] }), { password: "New password" });
    expect(errors.general).toBe("This link is invalid or has expired.");
    expect(errors.otherFields).toEqual(["token"]);
  });

  it("a validation error without fields shows its message", () => {
    const errors = formErrors(validation({}, "Malformed request body"), LABELS);
    expect(errors.general).toBe("Malformed request body.");
  });

  it("401 on login: the backend's words, not the 'reload the page' banner", () => {
    const error = ApiError.fromBody(401, {
      error: { code: "UNAUTHORIZED", message: "The email or password is not correct.", details: {} },
    });
    const errors = formErrors(error, LABELS);
    expect(errors.general).toBe("The email or password is not correct.");
    expect(errors.banner).toBeNull();
  });

  it("rate limits, outages and lost connections go to the banner", () => {
    const limited = ApiError.fromBody(429, { error: { code: "RATE_LIMITED", message: "Too many", details: {} } }, "30");
    expect(formErrors(limited, LABELS)).toMatchObject({ general: null, banner: { code: "RATE_LIMITED" } });
    expect(formErrors(new TypeError("Failed to fetch"), LABELS).banner?.code).toBe("NETWORK_ERROR");
  });
});
