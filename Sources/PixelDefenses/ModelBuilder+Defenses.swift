import PixelNN

extension ModelBuilder {
  /// The defense layer kinds of this module: `prm` (``PRMLayer``), `switch` (``SwitchingLayer``),
  /// `random_resize_pad` (``RandomResizePad``), `smoothing` (``SmoothingLayer``), `pni`
  /// (``ParametricNoise``) and `pixel_deflection` (``PixelDeflection``).
  public static let defenses = ModelBuilder([PRMLayer.specBuilder, SwitchingLayer.specBuilder, RandomResizePad.specBuilder,
                                             SmoothingLayer.specBuilder, ParametricNoise.specBuilder,
                                             PixelDeflection.specBuilder])

  /// PixelNN's generic kinds plus the defenses: what a checkpoint written by `pixelrobust` may hold.
  public static let withDefenses = ModelBuilder.standard.adding(.defenses)
}
