"""Input validation for mutations: every check collects its problems into an `Issues` list,
each with the path of the offending element, so that one response names all of them."""
