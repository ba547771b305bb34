import { useId } from 'preact/hooks';

/** A labelled input: the label is always visible and tied to the input (for= / id). */
export function Field(props: {
  label: string;
  type?: 'text' | 'email' | 'password' | 'search';
  value: string;
  onInput: (v: string) => void;
  autoComplete?: string;
  required?: boolean;
  hint?: string;
  inputMode?: 'numeric' | 'text' | 'email';
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  autoFocus?: boolean;
  name?: string;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      <input
        id={id}
        name={props.name}
        // Preact's typings tie role to type; every type here is a text-like input.
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        autoComplete={props.autoComplete}
        required={props.required}
        inputMode={props.inputMode}
        pattern={props.pattern}
        maxLength={props.maxLength}
        minLength={props.minLength}
        autoFocus={props.autoFocus}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
    </div>
  );
}
