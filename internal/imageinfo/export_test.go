package imageinfo

// Leptonica's encoders, for fixtures in formats Go cannot write.
var (
	LeptEncode     = leptEncode
	LeptAppendTIFF = leptAppendTIFF
)

const (
	LeptFormatTIFF     = leptFormatTIFF
	LeptFormatTIFFZip  = leptFormatTIFFZip
	LeptFormatTIFFG4   = leptFormatTIFFG4
	LeptFormatTIFFJPEG = leptFormatTIFFJPEG
	LeptFormatJP2      = leptFormatJP2
	LeptFormatWebP     = leptFormatWebP
	LeptFormatPNG      = leptFormatPNG
)
