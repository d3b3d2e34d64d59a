"""The template layer: HOT documents parsed and checked (``hot``), their parameters
(``parameters``) and intrinsic functions (``functions``)."""
