// Accord's only script of its own. htmx sends the CSRF token with every request it makes.
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.querySelector("meta[name=csrf-token]");
  var cookie = document.cookie.split("; ").find(function (c) { return c.startsWith("csrftoken="); });
  var value = token ? token.content : (cookie ? cookie.split("=")[1] : "");
  if (value) { event.detail.headers["X-CSRFToken"] = value; }
});
