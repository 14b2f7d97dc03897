// Enhance the pages with GOV.UK Frontend's JavaScript: the error summary takes focus, the
// service navigation collapses behind a menu button on narrow screens, and so on. Every page
// works without it. initAll only runs where the template's inline script marked the body
// `govuk-frontend-supported` (a browser with ES modules).
import { initAll } from "./govuk-frontend.min.js";

initAll();
