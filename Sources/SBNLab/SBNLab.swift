// The SBNLab library product: one import for the whole framework.
@_exported import SBNTensor
@_exported import SBNStorage
@_exported import SBNOptions
@_exported import SBNDistributions
@_exported import SBNData
@_exported import SBNModel
@_exported import SBNEstimators
@_exported import SBNConfig
@_exported import SBNEvents
@_exported import SBNTraining
@_exported import SBNSweeps
@_exported import SBNBench
@_exported import SBNFigures
@_exported import SBNDiagnostics
