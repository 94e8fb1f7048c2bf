/* kestrel-preview.c — see kestrel-preview.h.
 *
 * Drawing. The frame's pixels are immutable (a preview frame never
 * changes), so the GdkTexture wraps its GBytes without a copy, once per
 * frame. The picture — texture, boxes, keypoints and scores, or for a
 * model no decoder understands the summary of its outputs (a heat map, the
 * top classes, the outputs' ranges) — is built
 * into one render node and kept: the widget's snapshot appends that node
 * again until the frame, the size or a colour changes. Redraws that come
 * from the children (the rate line changes several times a second) so cost
 * one node append, and the renderer sees the same texture node and redraws
 * only the label's damage. Everything is colour nodes, borders and rounded
 * clips; nothing here needs a cairo path.
 *
 * Colours come from CSS, never from code: three style-only child nodes
 * (.detection-box, .detection-score, .detection-halo; see ui/style.css)
 * carry the box colour (the accent), the score's text colour on it, and a
 * thin contrasting outline that keeps a box readable on light and dark
 * photos alike. They are allocated 0x0 and never drawn, but stay visible
 * so GTK keeps their style up to date (an invisible node's style is not
 * revalidated when the theme changes).
 *
 * Geometry. The frame is scaled to fit, aspect kept, centred, on whole
 * pixels so that its edges and the 2 px box borders stay crisp. Detection
 * coordinates are frame pixels (of the detections' own frame size when the
 * decoder set one), and the overlay is clipped to the picture: a face half
 * out of the frame keeps its true extent but does not spill into the
 * letterbox bands.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "kestrel-preview.h"
#include "kestrel-ui.h"

#define MIN_WIDTH      160
#define MIN_HEIGHT     120
#define NAT_WIDTH      640
#define NAT_HEIGHT     480
#define BOX_WIDTH      2.0f   /* the accent border */
#define HALO_WIDTH     1.0f   /* the contrast outline on each side of it */
#define BOX_RADIUS     4.0f
#define KEYPOINT_RADIUS 2.5f
#define SCORE_PAD_X    5.0f
#define SCORE_PAD_Y    1.0f

struct _KestrelPreview
{
  GtkWidget            parent_instance;

  KestrelPreviewFrame *frame;
  GdkTexture          *texture;     /* wraps frame->pixels; NULL without a usable frame */

  /* The picture as last built, and what it was built for. */
  GskRenderNode       *picture;
  int                  picture_width;
  int                  picture_height;
  GdkRGBA              picture_colors[3];

  guint                n_described;  /* detections the accessible description names */

  GtkWidget           *placeholder;
  GtkWidget           *rate;
  GtkWidget           *style_nodes[3];  /* box, score text, halo */

  guint64              redraws;
  guint64              picture_builds;
};

enum {
  COLOR_BOX,
  COLOR_SCORE,
  COLOR_HALO,
};

static const char *const style_classes[] = {
  "detection-box",
  "detection-score",
  "detection-halo",
};

enum {
  PROP_0,
  PROP_FRAME,
  PROP_REDRAWS,
  PROP_PICTURE_BUILDS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KestrelPreview, kestrel_preview, GTK_TYPE_WIDGET)

/* ------------------------------------------------------------- texture */

static GdkTexture *
texture_for_frame (KestrelPreviewFrame *frame)
{
  GdkMemoryFormat format;
  gsize bpp, size;

  switch (frame->format)
    {
    case KK_PIXEL_RGB8:  format = GDK_MEMORY_R8G8B8;   bpp = 3; break;
    case KK_PIXEL_RGBA8: format = GDK_MEMORY_R8G8B8A8; bpp = 4; break;
    case KK_PIXEL_BGRA8: format = GDK_MEMORY_B8G8R8A8; bpp = 4; break;
    case KK_PIXEL_GRAY8:
    case KK_PIXEL_BGRX8:
    case KK_PIXEL_COUNT:
    default:
      g_warning ("Preview frame %" G_GUINT64_FORMAT ": pixel format %d is not a display format "
                 "(RGB8, RGBA8 or BGRA8); showing the placeholder",
                 frame->index, (int) frame->format);
      return NULL;
    }

  if (frame->width == 0 || frame->height == 0)
    return NULL;

  size = g_bytes_get_size (frame->pixels);
  if (frame->stride < frame->width * bpp ||
      size < frame->stride * (frame->height - 1) + frame->width * bpp)
    {
      g_warning ("Preview frame %" G_GUINT64_FORMAT ": %u x %u pixels with rows of %" G_GSIZE_FORMAT
                 " bytes do not fit in its %" G_GSIZE_FORMAT " bytes; showing the placeholder",
                 frame->index, frame->width, frame->height, frame->stride, size);
      return NULL;
    }

  return gdk_memory_texture_new ((int) frame->width, (int) frame->height, format,
                                 frame->pixels, frame->stride);
}

/* ------------------------------------------------------------- drawing */

/* Where the frame lands: scaled to fit, aspect kept, centred, whole pixels. */
static graphene_rect_t
picture_rect (KestrelPreview *self,
              int             width,
              int             height)
{
  float scale = MIN ((float) width / (float) self->frame->width,
                     (float) height / (float) self->frame->height);
  float w = MAX (1.0f, roundf ((float) self->frame->width * scale));
  float h = MAX (1.0f, roundf ((float) self->frame->height * scale));

  return GRAPHENE_RECT_INIT (floorf (((float) width - w) / 2.0f),
                             floorf (((float) height - h) / 2.0f),
                             w, h);
}

static void
append_ring (GtkSnapshot           *snapshot,
             const graphene_rect_t *rect,
             float                  radius,
             float                  width,
             const GdkRGBA         *color)
{
  GskRoundedRect outline;
  const float widths[4] = { width, width, width, width };
  const GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&outline, rect, MAX (radius, 0.0f));
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
append_disc (GtkSnapshot   *snapshot,
             float          cx,
             float          cy,
             float          radius,
             const GdkRGBA *color)
{
  graphene_rect_t rect = GRAPHENE_RECT_INIT (cx - radius, cy - radius, 2 * radius, 2 * radius);
  GskRoundedRect disc;

  gsk_rounded_rect_init_from_rect (&disc, &rect, radius);
  gtk_snapshot_push_rounded_clip (snapshot, &disc);
  gtk_snapshot_append_color (snapshot, color, &rect);
  gtk_snapshot_pop (snapshot);
}

/* A box: the accent border with a thin contrast outline on both sides. */
static void
append_box (GtkSnapshot           *snapshot,
            const graphene_rect_t *box,
            const GdkRGBA         *colors)
{
  graphene_rect_t outer, inner;

  graphene_rect_inset_r (box, -HALO_WIDTH, -HALO_WIDTH, &outer);
  graphene_rect_inset_r (box, BOX_WIDTH, BOX_WIDTH, &inner);
  append_ring (snapshot, &outer, BOX_RADIUS + HALO_WIDTH, HALO_WIDTH, &colors[COLOR_HALO]);
  append_ring (snapshot, box, BOX_RADIUS, BOX_WIDTH, &colors[COLOR_BOX]);
  if (inner.size.width > 2 * HALO_WIDTH && inner.size.height > 2 * HALO_WIDTH)
    append_ring (snapshot, &inner, BOX_RADIUS - BOX_WIDTH, HALO_WIDTH, &colors[COLOR_HALO]);
}

/* A tab of the box colour in `shape`, with the layout's text on it. */
static void
append_tab (GtkSnapshot          *snapshot,
            PangoLayout          *layout,
            const GskRoundedRect *shape,
            const GdkRGBA        *colors)
{
  gtk_snapshot_push_rounded_clip (snapshot, shape);
  gtk_snapshot_append_color (snapshot, &colors[COLOR_BOX], &shape->bounds);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (shape->bounds.origin.x + SCORE_PAD_X,
                                                          shape->bounds.origin.y + SCORE_PAD_Y));
  gtk_snapshot_append_layout (snapshot, layout, &colors[COLOR_SCORE]);
  gtk_snapshot_restore (snapshot);
}

/* The score as a tab on the box's top-left corner: above the box when
 * there is room in the picture, inside its top edge otherwise. */
static void
append_score (GtkSnapshot           *snapshot,
              PangoLayout           *layout,
              const graphene_rect_t *box,
              const graphene_rect_t *picture,
              float                  score,
              const GdkRGBA         *colors)
{
  /* Translators: a detection's confidence over the preview, e.g. "92%";
   * use your language's way of writing percentages ("92 %"). */
  g_autofree char *text = g_strdup_printf (_("%.0f%%"), (double) (score * 100.0f));
  graphene_rect_t tab;
  GskRoundedRect shape;
  graphene_size_t round = GRAPHENE_SIZE_INIT (BOX_RADIUS, BOX_RADIUS);
  graphene_size_t square = GRAPHENE_SIZE_INIT (0, 0);
  gboolean above;
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  tab.size.width = (float) tw + 2 * SCORE_PAD_X;
  tab.size.height = (float) th + 2 * SCORE_PAD_Y;
  tab.origin.x = CLAMP (box->origin.x,
                        picture->origin.x,
                        MAX (picture->origin.x, picture->origin.x + picture->size.width - tab.size.width));
  above = box->origin.y - tab.size.height >= picture->origin.y;
  tab.origin.y = above ? box->origin.y - tab.size.height : MAX (box->origin.y, picture->origin.y);

  /* Rounded where it is free, square where it meets the box's border. */
  if (above)
    gsk_rounded_rect_init (&shape, &tab, &round, &round, &square, &square);
  else
    gsk_rounded_rect_init (&shape, &tab, &round, &square, &round, &square);
  append_tab (snapshot, layout, &shape, colors);
}

static PangoLayout *
create_score_layout (KestrelPreview *self)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

/* ------------------------------------------------------------- summary */

/* A model no decoder understands: its single-map output as a wash of the
 * accent colour over the frame (stretched to it: the model saw the whole
 * frame), stronger where the map is higher. */
static void
append_heat_map (GtkSnapshot                *snapshot,
                 const KestrelOutputSummary *summary,
                 const graphene_rect_t      *picture,
                 const GdkRGBA              *color)
{
  guint n = summary->map_width * summary->map_height;
  g_autofree guint8 *pixels = g_new (guint8, n * 4);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  for (guint i = 0; i < n; i++)
    {
      pixels[4 * i + 0] = (guint8) lroundf (color->red * 255);
      pixels[4 * i + 1] = (guint8) lroundf (color->green * 255);
      pixels[4 * i + 2] = (guint8) lroundf (color->blue * 255);
      pixels[4 * i + 3] = (guint8) lroundf (CLAMP (summary->map[i], 0.0f, 1.0f) * 0.6f * 255);
    }
  bytes = g_bytes_new_take (g_steal_pointer (&pixels), n * 4);
  texture = gdk_memory_texture_new ((int) summary->map_width, (int) summary->map_height,
                                    GDK_MEMORY_R8G8B8A8, bytes, summary->map_width * 4);
  gtk_snapshot_append_texture (snapshot, texture, picture);
}

/* The lines of text the summary is shown as. */
static char *
summary_caption (const KestrelOutputSummary *summary)
{
  GString *text = g_string_new (NULL);

  switch (summary->kind)
    {
    case KESTREL_SUMMARY_CLASSES:
      for (guint t = 0; t < MIN (summary->n_top, 3u); t++)
        {
          if (t > 0)
            g_string_append_c (text, '\n');
          /* Translators: a class a model without a known decoder scores
           * highest, and its share, e.g. "Class 281: 62%". */
          g_string_append_printf (text, _("Class %u: %.0f%%"), summary->top_class[t],
                                  100.0 * (double) summary->top_probability[t]);
        }
      break;
    case KESTREL_SUMMARY_HEAT_MAP:
      /* Translators: the map a model gave, drawn over the frame; %s is the
       * name of the model's output. */
      g_string_append_printf (text, _("Heat map of “%s”"), summary->output);
      break;
    case KESTREL_SUMMARY_STATISTICS:
      for (guint i = 0; i < MIN (summary->n_outputs, 3u); i++)
        {
          const KestrelOutputStatistics *st = &summary->outputs[i];
          if (i > 0)
            g_string_append_c (text, '\n');
          /* Translators: an output of a model without a known decoder: its
           * name, its shape ("1x3549x85") and its range of values. */
          g_string_append_printf (text, _("“%s” %s: %.3g to %.3g"), st->name, st->shape, st->min, st->max);
        }
      break;
    case KESTREL_SUMMARY_NONE:
    default:
      break;
    }
  return g_string_free (text, FALSE);
}

/* The caption as a tab in the picture's bottom-left corner. */
static void
append_caption (GtkSnapshot           *snapshot,
                PangoLayout           *layout,
                const char            *text,
                const graphene_rect_t *picture,
                const GdkRGBA         *colors)
{
  graphene_rect_t tab;
  GskRoundedRect shape;
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_set_width (layout, (int) MAX (picture->size.width - 2 * SCORE_PAD_X, 1) * PANGO_SCALE);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (layout, &tw, &th);
  tab.size.width = (float) tw + 2 * SCORE_PAD_X;
  tab.size.height = (float) th + 2 * SCORE_PAD_Y;
  tab.origin.x = picture->origin.x;
  tab.origin.y = picture->origin.y + picture->size.height - tab.size.height;
  gsk_rounded_rect_init (&shape, &tab, &GRAPHENE_SIZE_INIT (0, 0), &GRAPHENE_SIZE_INIT (BOX_RADIUS, BOX_RADIUS),
                         &GRAPHENE_SIZE_INIT (0, 0), &GRAPHENE_SIZE_INIT (0, 0));
  append_tab (snapshot, layout, &shape, colors);
}

static void
append_summary (KestrelPreview             *self,
                GtkSnapshot                *snapshot,
                const KestrelOutputSummary *summary,
                const graphene_rect_t      *picture,
                const GdkRGBA              *colors)
{
  g_autoptr(PangoLayout) layout = create_score_layout (self);
  g_autofree char *caption = summary_caption (summary);

  gtk_snapshot_push_clip (snapshot, picture);
  if (summary->kind == KESTREL_SUMMARY_HEAT_MAP)
    append_heat_map (snapshot, summary, picture, &colors[COLOR_BOX]);
  if (caption[0] != '\0')
    append_caption (snapshot, layout, caption, picture, colors);
  gtk_snapshot_pop (snapshot);
}

static GskRenderNode *
build_picture (KestrelPreview *self,
               int             width,
               int             height,
               const GdkRGBA  *colors)
{
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(PangoLayout) layout = NULL;
  const KestrelDetections *detections = self->frame->detections;
  graphene_rect_t picture = picture_rect (self, width, height);
  guint n = kestrel_detections_get_n (detections);
  guint det_width = kestrel_detections_get_frame_width (detections);
  guint det_height = kestrel_detections_get_frame_height (detections);
  float sx, sy;
  g_autofree graphene_rect_t *boxes = NULL;

  gtk_snapshot_append_texture (snapshot, self->texture, &picture);
  if (kestrel_detections_get_summary (detections) != NULL)
    append_summary (self, snapshot, kestrel_detections_get_summary (detections), &picture, colors);
  if (n == 0)
    return gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));

  /* Detections are in the pixels of the frame they were found in. */
  sx = picture.size.width / (float) (det_width > 0 ? det_width : self->frame->width);
  sy = picture.size.height / (float) (det_height > 0 ? det_height : self->frame->height);

  boxes = g_new (graphene_rect_t, n);
  for (guint i = 0; i < n; i++)
    {
      const KestrelDetection *d = kestrel_detections_get (detections, i);
      float x0 = roundf (picture.origin.x + d->x * sx);
      float y0 = roundf (picture.origin.y + d->y * sy);
      float x1 = roundf (picture.origin.x + (d->x + d->width) * sx);
      float y1 = roundf (picture.origin.y + (d->y + d->height) * sy);

      boxes[i] = GRAPHENE_RECT_INIT (x0, y0, MAX (x1 - x0, 1.0f), MAX (y1 - y0, 1.0f));
    }

  gtk_snapshot_push_clip (snapshot, &picture);

  /* Boxes and keypoints first, all scores on top, so that a neighbour's
   * box never crosses a score. */
  for (guint i = 0; i < n; i++)
    {
      const KestrelDetection *d = kestrel_detections_get (detections, i);

      append_box (snapshot, &boxes[i], colors);
      for (guint k = 0; k < MIN (d->n_keypoints, KESTREL_DETECTION_MAX_KEYPOINTS); k++)
        {
          float cx = picture.origin.x + d->keypoints[k].x * sx;
          float cy = picture.origin.y + d->keypoints[k].y * sy;

          append_disc (snapshot, cx, cy, KEYPOINT_RADIUS + HALO_WIDTH, &colors[COLOR_HALO]);
          append_disc (snapshot, cx, cy, KEYPOINT_RADIUS, &colors[COLOR_BOX]);
        }
    }

  layout = create_score_layout (self);
  for (guint i = 0; i < n; i++)
    append_score (snapshot, layout, &boxes[i], &picture,
                  kestrel_detections_get (detections, i)->score, colors);

  gtk_snapshot_pop (snapshot);
  return gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
}

static void
kestrel_preview_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  KestrelPreview *self = KESTREL_PREVIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  self->redraws++;

  if (self->texture != NULL && width > 0 && height > 0)
    {
      GdkRGBA colors[G_N_ELEMENTS (style_classes)];
      gboolean same_colors = self->picture != NULL;

      for (guint i = 0; i < G_N_ELEMENTS (colors); i++)
        {
          kestrel_ui_get_color (self->style_nodes[i], &colors[i]);
          same_colors = same_colors && gdk_rgba_equal (&colors[i], &self->picture_colors[i]);
        }

      if (!same_colors || width != self->picture_width || height != self->picture_height)
        {
          g_clear_pointer (&self->picture, gsk_render_node_unref);
          self->picture = build_picture (self, width, height, colors);
          self->picture_width = width;
          self->picture_height = height;
          memcpy (self->picture_colors, colors, sizeof colors);
          self->picture_builds++;
        }
      if (self->picture != NULL)
        gtk_snapshot_append_node (snapshot, self->picture);
    }

  gtk_widget_snapshot_child (widget, self->placeholder, snapshot);
  gtk_widget_snapshot_child (widget, self->rate, snapshot);
}

/* ------------------------------------------------------------- layout */

static void
kestrel_preview_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  KestrelPreview *self = KESTREL_PREVIEW (widget);
  gboolean horizontal = orientation == GTK_ORIENTATION_HORIZONTAL;
  int min = horizontal ? MIN_WIDTH : MIN_HEIGHT;
  int nat = horizontal ? NAT_WIDTH : NAT_HEIGHT;
  GtkWidget *children[] = { self->placeholder, self->rate };

  /* The picture itself has no size of its own: it fits whatever it gets.
   * Only the children (which never overlap in a way that adds up) set a
   * floor. */
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      int child_min = 0, child_nat = 0;

      if (!gtk_widget_should_layout (children[i]))
        continue;
      gtk_widget_measure (children[i], orientation, -1, &child_min, &child_nat, NULL, NULL);
      min = MAX (min, child_min);
      nat = MAX (nat, child_nat);
    }

  *minimum = min;
  *natural = nat;
  *minimum_baseline = *natural_baseline = -1;
}

static void
kestrel_preview_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  KestrelPreview *self = KESTREL_PREVIEW (widget);

  if (gtk_widget_should_layout (self->placeholder))
    {
      int w, h;

      gtk_widget_measure (self->placeholder, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &w, NULL, NULL);
      w = MIN (w, width);
      gtk_widget_measure (self->placeholder, GTK_ORIENTATION_VERTICAL, w, NULL, &h, NULL, NULL);
      h = MIN (h, height);
      gtk_widget_size_allocate (self->placeholder,
                                &(GtkAllocation) { (width - w) / 2, (height - h) / 2, w, h }, -1);
    }

  /* The rate line in the top-right corner (its CSS margin keeps it off the
   * edge), where it covers the least of a face-centred photo. */
  if (gtk_widget_should_layout (self->rate))
    {
      int w, h;

      gtk_widget_measure (self->rate, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &w, NULL, NULL);
      w = MIN (w, width);
      gtk_widget_measure (self->rate, GTK_ORIENTATION_VERTICAL, w, NULL, &h, NULL, NULL);
      gtk_widget_size_allocate (self->rate, &(GtkAllocation) { width - w, 0, w, MIN (h, height) }, -1);
    }

  for (guint i = 0; i < G_N_ELEMENTS (self->style_nodes); i++)
    gtk_widget_size_allocate (self->style_nodes[i], &(GtkAllocation) { 0, 0, 0, 0 }, -1);
}

/* ------------------------------------------------------------- state */

static void
update_description (KestrelPreview *self)
{
  guint n = self->texture != NULL ? kestrel_detections_get_n (self->frame->detections) : G_MAXUINT;
  g_autofree char *description = NULL;

  /* Only when it changes: screen readers announce description changes, and
   * a new frame with the same faces is not news. */
  if (n == self->n_described)
    return;
  self->n_described = n;

  if (n == G_MAXUINT)
    description = g_strdup (_("Waiting for the first frame…"));
  else
    description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u detection", "%u detections", n), n);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

void
kestrel_preview_set_frame (KestrelPreview      *self,
                           KestrelPreviewFrame *frame)
{
  g_return_if_fail (KESTREL_IS_PREVIEW (self));

  /* The same frame again (a tick that found nothing new) changes nothing
   * and must cost nothing. */
  if (frame == self->frame)
    return;

  if (frame != NULL)
    kestrel_preview_frame_ref (frame);
  g_clear_pointer (&self->frame, kestrel_preview_frame_unref);
  self->frame = frame;

  g_clear_object (&self->texture);
  g_clear_pointer (&self->picture, gsk_render_node_unref);
  if (frame != NULL)
    self->texture = texture_for_frame (frame);

  gtk_widget_set_visible (self->placeholder, self->texture == NULL);
  update_description (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

KestrelPreviewFrame *
kestrel_preview_get_frame (KestrelPreview *self)
{
  g_return_val_if_fail (KESTREL_IS_PREVIEW (self), NULL);

  return self->frame;
}

static char *
format_rate (double fps,
             double latency_ms)
{
  g_autofree char *fps_text = NULL;
  g_autofree char *latency_text = NULL;

  if (!isnan (fps))
    /* Translators: frames per second over the preview, e.g. "12.3 fps". */
    fps_text = g_strdup_printf (_("%.1f fps"), fps);
  if (!isnan (latency_ms))
    /* Translators: the latency of one frame over the preview, e.g. "8.1 ms". */
    latency_text = g_strdup_printf (_("%.*f ms"), latency_ms < 1.0 ? 2 : 1, latency_ms);

  if (fps_text != NULL && latency_text != NULL)
    return g_strconcat (fps_text, " · ", latency_text, NULL);
  if (fps_text != NULL)
    return g_steal_pointer (&fps_text);
  return g_steal_pointer (&latency_text);
}

void
kestrel_preview_set_rate (KestrelPreview *self,
                          double          fps,
                          double          latency_ms)
{
  g_autofree char *text = NULL;

  g_return_if_fail (KESTREL_IS_PREVIEW (self));

  text = format_rate (fps, latency_ms);

  /* The window sets this on every tick; an unchanged line must not resize
   * or redraw anything. */
  gtk_widget_set_visible (self->rate, text != NULL);
  if (text != NULL && g_strcmp0 (text, gtk_label_get_text (GTK_LABEL (self->rate))) != 0)
    gtk_label_set_text (GTK_LABEL (self->rate), text);
}

/* ------------------------------------------------------------- GObject */

static void
kestrel_preview_dispose (GObject *object)
{
  KestrelPreview *self = KESTREL_PREVIEW (object);

  g_clear_pointer (&self->placeholder, gtk_widget_unparent);
  g_clear_pointer (&self->rate, gtk_widget_unparent);
  for (guint i = 0; i < G_N_ELEMENTS (self->style_nodes); i++)
    g_clear_pointer (&self->style_nodes[i], gtk_widget_unparent);

  g_clear_pointer (&self->picture, gsk_render_node_unref);
  g_clear_object (&self->texture);
  g_clear_pointer (&self->frame, kestrel_preview_frame_unref);

  G_OBJECT_CLASS (kestrel_preview_parent_class)->dispose (object);
}

static void
kestrel_preview_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KestrelPreview *self = KESTREL_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_FRAME:
      g_value_set_boxed (value, self->frame);
      break;
    case PROP_REDRAWS:
      g_value_set_uint64 (value, self->redraws);
      break;
    case PROP_PICTURE_BUILDS:
      g_value_set_uint64 (value, self->picture_builds);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_preview_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KestrelPreview *self = KESTREL_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_FRAME:
      kestrel_preview_set_frame (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kestrel_preview_class_init (KestrelPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kestrel_preview_dispose;
  object_class->get_property = kestrel_preview_get_property;
  object_class->set_property = kestrel_preview_set_property;

  widget_class->snapshot = kestrel_preview_snapshot;
  widget_class->measure = kestrel_preview_measure;
  widget_class->size_allocate = kestrel_preview_size_allocate;

  properties[PROP_FRAME] =
    g_param_spec_boxed ("frame", NULL, "The frame shown, with its detections; NULL shows the placeholder",
                        KESTREL_TYPE_PREVIEW_FRAME,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REDRAWS] =
    g_param_spec_uint64 ("redraws", NULL, "Snapshots taken (does not notify)",
                         0, G_MAXUINT64, 0, ro);
  properties[PROP_PICTURE_BUILDS] =
    g_param_spec_uint64 ("picture-builds", NULL,
                         "Times the picture (frame and overlay) was built anew (does not notify)",
                         0, G_MAXUINT64, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "preview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kestrel_preview_init (KestrelPreview *self)
{
  GtkWidget *icon, *label;

  kestrel_ui_ensure_style (gtk_widget_get_display (GTK_WIDGET (self)));

  self->n_described = G_MAXUINT - 1;  /* nothing described yet */

  /* The picture's rounded corners (border-radius in style.css) clip it. */
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  self->placeholder = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_add_css_class (self->placeholder, "placeholder");
  icon = gtk_image_new_from_icon_name ("camera-photo-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (icon), 64);
  gtk_widget_add_css_class (icon, "dim-label");
  gtk_box_append (GTK_BOX (self->placeholder), icon);
  label = gtk_label_new (_("Waiting for the first frame…"));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (self->placeholder), label);
  gtk_widget_set_parent (self->placeholder, GTK_WIDGET (self));

  self->rate = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->rate, "rate");
  gtk_widget_add_css_class (self->rate, "numeric");
  gtk_widget_set_visible (self->rate, FALSE);
  gtk_widget_set_parent (self->rate, GTK_WIDGET (self));

  for (guint i = 0; i < G_N_ELEMENTS (self->style_nodes); i++)
    {
      self->style_nodes[i] = g_object_new (GTK_TYPE_BOX,
                                           "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                           "can-target", FALSE,
                                           NULL);
      gtk_widget_add_css_class (self->style_nodes[i], style_classes[i]);
      gtk_widget_set_parent (self->style_nodes[i], GTK_WIDGET (self));
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Preview"),
                                  -1);
  update_description (self);
}

GtkWidget *
kestrel_preview_new (void)
{
  return g_object_new (KESTREL_TYPE_PREVIEW, NULL);
}
