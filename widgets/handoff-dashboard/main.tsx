import { httpHandoffApi } from "../lib/handoffApi.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import { handoffsCapabilities, handoffsWatch } from "./capabilities.js";
import { HandoffsApp } from "./HandoffsApp.js";

void mountWidget(document.getElementById("app")!, {
  capabilities: handoffsCapabilities,
  watch: handoffsWatch,
  app: ({ session, apiSession, viewer }) => <HandoffsApp api={httpHandoffApi(apiSession)} roomId={session.feed.roomId} viewer={viewer} />,
});
