// The SBNLab library product: one import for the whole framework.
@_exported import SBNTensor
@_exported import SBNStorage
@_exported import SBNDistributions
@_exported import SBNData
@_exported import SBNModel
@_exported import SBNEstimators
@_exported import SBNExperiments
@_exported import SBNFigures
