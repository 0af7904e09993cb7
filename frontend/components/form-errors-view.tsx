"use client";
/** The part of a form's errors that belongs to no field: a line, or the full error banner. */
import type { FormErrors } from "@/lib/form-errors";
import { ErrorBanner } from "@/components/error-banner";

export function FormErrorsView<F extends string>({ errors }: { errors: FormErrors<F> }) {
  return (
    <>
      {errors.general && (
        <p role="alert" className="form-error" data-testid="form-error">
          {errors.general}
        </p>
      )}
      {errors.banner && <ErrorBanner error={errors.banner} />}
    </>
  );
}
