"""Pure cell renderers, one module per kind of row: data and a palette in, Rich Text out.
No widgets, no state: the panes own the tables, these own how a value looks."""
