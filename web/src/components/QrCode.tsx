import { toDataURL } from "qrcode";
import { Show, createResource } from "solid-js";

/**
 * `text` (an otpauth:// URL) as a QR code image. Drawn to a data: URL in the page (the CSP allows
 * `img-src data:`), never sent anywhere.
 */
export function QrCode(props: { text: string; label: string; size?: number }) {
  const [src] = createResource(
    () => props.text,
    (text) => toDataURL(text, { margin: 1, width: props.size ?? 200, errorCorrectionLevel: "M" }),
  );
  return (
    <Show when={src()}>
      {(url) => (
        <img class="qr-code" src={url()} width={props.size ?? 200} height={props.size ?? 200} alt={props.label} data-testid="qr-code" />
      )}
    </Show>
  );
}
