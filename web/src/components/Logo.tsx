/** The SENTpulse mark: a pulse line on a teal tile. */
export function Logo(props: { size?: number }) {
  return (
    <svg width={props.size ?? 26} height={props.size ?? 26} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="#0b6e66" />
      <path d="M4 17h6l3-7 5 13 3-6h7" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
