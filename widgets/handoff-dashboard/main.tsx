import { MatrixCapabilities } from "matrix-widget-api";
import { httpHandoffApi } from "../lib/handoffApi.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import "../lib/dashboard.css";
import { handoffsCapabilities, handoffsWatch } from "./capabilities.js";
import { HandoffsApp } from "./HandoffsApp.js";

void mountWidget(document.getElementById("app")!, {
  capabilities: handoffsCapabilities,
  // Finding colleagues as Element would; without it, Rounds' staff directory.
  optionalCapabilities: [MatrixCapabilities.MSC3973UserDirectorySearch],
  watch: handoffsWatch,
  app: ({ session, apiSession, viewer }) => <HandoffsApp api={httpHandoffApi(apiSession)} roomId={session.feed.roomId} viewer={viewer} />,
});
