import PixelRobustnessCLI

BLASKernelSelection.reexecuteWithFastKernelsIfNeeded()
PixelRobustCommand.main()
