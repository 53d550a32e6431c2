import { render } from "solid-js/web";
import { App } from "./app.tsx";
import "./styles/theme.css";
import "./styles/base.css";
import "./styles/layout.css";
import "./styles/components.css";
import "./styles/lists.css";
import "./styles/overlays.css";
import "./lib/theme.ts";

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");
render(() => <App />, root);
