package imageinfo

import (
	"context"
	"fmt"
	"image"
)

// Count reports how many pages the scan file holds (1 for single images) and its Info
// (Format "pdf", "tiff", "png", "jpeg", "jp2", "webp"...). Errors name what is wrong
// (ErrNotImage, ErrCorrupt, ErrTooLarge wrapped with detail).
//
// The Info is the first page's, as its header tells it (TextLayer is left to DecodePage).
// Every page's declared size is checked against lim.MaxPixels and the page count against
// lim.MaxPages, without decoding anything: what Count accepts, DecodePage will not refuse
// as too large. A TIFF's pages are the full-resolution images in its chain of IFDs
// (thumbnails and masks are skipped); a PDF's are counted and measured by pdfinfo, at
// PDFDPI; any other format is one page. A missing PDF tool is ErrMissingTool, and a
// cancelled ctx returns ctx's error. With an error the count is 0.
func Count(ctx context.Context, data []byte, lim Limits) (int, Info, error) {
	if err := ctx.Err(); err != nil {
		return 0, Info{}, err
	}
	switch format := Sniff(data); format {
	case "tiff":
		pages, err := tiffPages(data, lim)
		if err != nil {
			return 0, Info{Format: format}, err
		}
		for i, p := range pages {
			if err := p.checkPixels(lim, i); err != nil {
				return 0, pages[0].info(), err
			}
		}
		return len(pages), pages[0].info(), nil
	case "pdf":
		return pdfCount(ctx, data, lim)
	case "jp2":
		info, err := jp2Info(data, lim)
		if err != nil {
			return 0, info, err
		}
		return 1, info, nil
	}
	info, err := Inspect(data, lim)
	if err != nil {
		return 0, info, err
	}
	return 1, info, nil
}

// DecodePage decodes page i (0-based) of the file to 8-bit grey with its resolution in
// Info.DPI (0 if unknown).
//
// The page's declared size is checked against lim before it is decoded (the other pages'
// sizes are Count's business). PNG, JPEG, GIF,
// BMP, WebP and TIFF pages are decoded by Go's decoders (page 0 exactly as Decode does),
// except a TIFF page in a compression Go does not read (JPEG-in-TIFF, 2 or 4 bits a sample),
// which Leptonica (libtiff) decodes; JPEG 2000 is decoded by Leptonica (OpenJPEG); a PDF
// page is rendered by pdftoppm at PDFDPI, its crop box as it is displayed, and Info.TextLayer
// tells whether pdftotext finds text on it. An index the file has no page for is ErrNoPage.
func DecodePage(ctx context.Context, data []byte, i int, lim Limits) (*image.Gray, Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	if i < 0 {
		return nil, Info{}, fmt.Errorf("page index %d: %w", i, ErrNoPage)
	}
	switch format := Sniff(data); format {
	case "tiff":
		pages, err := tiffPages(data, lim)
		if err != nil {
			return nil, Info{Format: format}, err
		}
		if i >= len(pages) {
			return nil, pages[0].info(), fmt.Errorf("page index %d of a %d-page tiff: %w", i, len(pages), ErrNoPage)
		}
		info := pages[i].info()
		if err := pages[i].checkPixels(lim, i); err != nil {
			return nil, info, err
		}
		g, err := decodeTIFFPage(data, pages[i], info)
		if err != nil {
			return nil, info, fmt.Errorf("tiff page %d: %w", i+1, err)
		}
		return g, info, nil
	case "pdf":
		return pdfDecodePage(ctx, data, i, lim)
	case "jp2":
		info, err := jp2Info(data, lim)
		if err != nil {
			return nil, info, err
		}
		if i != 0 {
			return nil, info, fmt.Errorf("page index %d of a 1-page jp2: %w", i, ErrNoPage)
		}
		g, err := leptDecode(data, leptJP2, info.Width, info.Height)
		if err != nil {
			return nil, info, fmt.Errorf("%w: jp2: %v", ErrCorrupt, err)
		}
		return g, info, nil
	}
	if i != 0 {
		info, err := Inspect(data, lim)
		if err != nil {
			return nil, info, err
		}
		return nil, info, fmt.Errorf("page index %d of a 1-page %s: %w", i, info.Format, ErrNoPage)
	}
	return Decode(data, lim)
}

func (p tiffPage) info() Info {
	return Info{Format: "tiff", Width: p.width, Height: p.height, DPI: p.dpi}
}
