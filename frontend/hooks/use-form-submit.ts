"use client";
/**
 * A form's submission state: busy while the request runs, the backend's errors split by
 * field (lib/form-errors.ts), and the focus moved to the first field with an error.
 */
import { useCallback, useRef, useState, type ChangeEvent } from "react";
import { NO_ERRORS, firstInvalid, formErrors, type FormErrors } from "@/lib/form-errors";

export function useFormSubmit<F extends string>(labels: Record<F, string>) {
  const [errors, setErrors] = useState<FormErrors<F>>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const inputs = useRef<Partial<Record<F, HTMLInputElement | null>>>({});
  const labelsRef = useRef(labels);
  labelsRef.current = labels;

  const submit = useCallback(async (action: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      await action();
      return true;
    } catch (error) {
      const found = formErrors(error, labelsRef.current);
      setErrors(found);
      const first = firstInvalid(found, Object.keys(labelsRef.current) as F[]);
      if (first) inputs.current[first]?.focus();
      return false;
    } finally {
      setBusy(false);
    }
  }, []);

  /** A ref callback for the input of `name`, so an error can move the focus there. */
  const inputRef = useCallback(
    (name: F) => (element: HTMLInputElement | null) => {
      inputs.current[name] = element;
    },
    [],
  );

  /** Shows errors found before asking the server (e.g. two passwords that differ). */
  const fail = useCallback((found: FormErrors<F>) => {
    setErrors(found);
    const first = firstInvalid(found, Object.keys(labelsRef.current) as F[]);
    if (first) inputs.current[first]?.focus();
  }, []);

  /** The wiring a FormField for `name` needs: value, change handler, its error, its ref. */
  const bind = (name: F, value: string, setValue: (value: string) => void) => ({
    name,
    value,
    onChange: (event: ChangeEvent<HTMLInputElement>) => setValue(event.target.value),
    error: errors.fields[name],
    inputRef: inputRef(name),
  });

  return { errors, busy, submit, inputRef, fail, bind };
}
