"""Pure rules and records: the proposal, policy, lexicon, classifier, regulatory mapping,
interview, approval and lifecycle rules, errors. Standard library only: no I/O."""
