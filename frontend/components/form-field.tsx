"use client";
/** A labelled input with its hint and its error (named, and tied to the input for readers). */
import type { InputHTMLAttributes, Ref } from "react";

type Props = Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & {
  id: string;
  label: string;
  hint?: string;
  error?: string | null;
  inputRef?: Ref<HTMLInputElement>;
};

export function FormField({ id, label, hint, error, inputRef, ...input }: Props) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        {...input}
        id={id}
        ref={inputRef}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
      />
      {error && (
        <p id={errorId} className="field-error" data-testid="field-error" data-field={input.name}>
          {error}
        </p>
      )}
      {hint && (
        <p id={hintId} className="field-hint small muted">
          {hint}
        </p>
      )}
    </div>
  );
}
